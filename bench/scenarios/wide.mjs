// @ts-check
/**
 * wide: idle, warm-up and targeted delivery on a topic of `widePartitions` partitions: every id
 * carries one offset per partition, so this is where their length and cost show.
 */
import { startTarget } from '../harness/targets.mjs';
import { idleScenario } from './idle.mjs';
import { throughputScenario } from './throughput.mjs';
import { warmUp } from './warm-up.mjs';

/**
 * @param {import('../harness/session.mjs').Session} session
 * @param {import('../harness/params.mjs').BenchParams} params
 * @param {'gateway' | 'raw'} kind
 * @param {{ brokers: string[], producer: import('../harness/producer.mjs').BenchProducer, topic: string }} wide
 */
export async function wideScenario(session, params, kind, wide) {
  const ctx = await startTarget(session, params, kind, {
    ...wide,
    name: ` ${params.widePartitions} partitions`,
  });
  try {
    await idleScenario(ctx);
    await warmUp({ ...ctx, streams: params.streams, loads: [ctx.load] });
    const targeted = await throughputScenario(ctx, 'targeted');
    const { idLength } = await ctx.load.stats();
    return { partitions: params.widePartitions, targeted, idLength: idLength ?? null };
  } finally {
    await ctx.stop();
  }
}
