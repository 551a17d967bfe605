// @ts-check
/**
 * fanout: one broadcast at a time to every stream, `fanoutEvents` times: the latency of a single
 * event's fan-out, from its production to each stream's receipt, with nothing else queued.
 */
import { deliveryFigures } from '../harness/accounting.mjs';
import { broadcastRecord } from '../harness/producer.mjs';
import { fmt } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';

/** @param {import('../harness/targets.mjs').Context} ctx */
export async function fanoutScenario(ctx) {
  const { params, load } = ctx;
  const eventType = 'bench.fanout';
  await load.expect(eventType);
  const cpu = ctx.cpuMarks();
  const t0 = monotonicMs();
  let produced = 0;
  let complete = true;
  for (let i = 0; i < params.fanoutEvents && complete; i++) {
    await ctx.producer.send([broadcastRecord(eventType, i)]);
    produced++;
    complete = await ctx.drain(produced * params.streams, `fan-out ${produced}`, {
      idleMs: 10_000,
      hardMs: 60_000,
    });
  }
  const figures = await deliveryFigures(ctx, {
    t0,
    produced,
    expected: produced * params.streams,
    complete,
    cpu,
    producedUntil: monotonicMs(),
  });
  ctx.session.log(
    `${ctx.label} fan-out: ${produced} broadcasts one at a time to ${fmt(params.streams)} streams, latency p50 ${figures.latency.p50Ms} ms, ` +
      `p99 ${figures.latency.p99Ms} ms, max ${figures.latency.maxMs} ms`,
  );
  return figures;
}
