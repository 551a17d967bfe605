// @ts-check
/**
 * warm-up (not reported): one broadcast and up to 2,000 targeted events, all awaited: proves every
 * stream is subscribed end to end, and warms up the code paths, before anything is measured.
 */
import { broadcastRecord, targetedRecord } from '../harness/producer.mjs';

/**
 * @param {{ streams: number, label: string, producer: import('../harness/producer.mjs').BenchProducer,
 *   loads: Array<import('../harness/load.mjs').Load>,
 *   drain: (expected: number, what: string, limits: { idleMs: number, hardMs: number }) => Promise<boolean> }} ctx
 *   every load of the run (one per instance in the ceiling), and a drain over all of them
 */
export async function warmUp(ctx) {
  await Promise.all(ctx.loads.map((load) => load.expect('bench.warm')));
  const targeted = Math.min(ctx.streams, 2000);
  const records = [broadcastRecord('bench.warm', 0)];
  for (let i = 0; i < targeted; i++) records.push(targetedRecord('bench.warm', i + 1, i));
  await ctx.producer.send(records);
  const ok = await ctx.drain(ctx.streams + targeted, 'warm-up', { idleMs: 15_000, hardMs: 60_000 });
  if (!ok) throw new Error(`${ctx.label}: warm-up events did not reach every stream`);
}
