// @ts-check
/**
 * What formatting a cursor costs in the gateway's own code (dist), for 3 and for many partitions,
 * with a partition moving between each, as it does per record.
 */
import { round } from '../harness/session.mjs';
import { gatewayLogPosition } from '../harness/targets.mjs';

/** @param {{ widePartitions: number }} params */
export async function cursorCost(params) {
  const LogPosition = await gatewayLogPosition();
  /** @param {number} partitions */
  const cost = (partitions) => {
    const position = LogPosition.empty();
    for (let partition = 0; partition < partitions; partition++)
      position.set('notifications', partition, 10_000_000 + partition * 37);
    const rounds = Math.max(2000, Math.round(600_000 / partitions));
    let length = 0;
    // Compiled first, as it is in a gateway that has run a while.
    for (let i = 0; i < rounds; i++) length = position.format(['notifications']).length;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) {
      position.set('notifications', i % partitions, 10_000_000 + i);
      length = position.format(['notifications']).length;
    }
    const nanos = Number(process.hrtime.bigint() - t0) / rounds;
    return {
      partitions,
      cursorLength: length,
      decimalLength: partitions * 9 - 1,
      formatNanoseconds: round(nanos, 0),
    };
  };
  return params.widePartitions > 0 ? [cost(3), cost(params.widePartitions)] : [cost(3)];
}
