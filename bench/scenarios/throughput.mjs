// @ts-check
/**
 * targeted and broadcast: events at the highest rate the target sustains. Records are produced in
 * batches for `durationS`, keeping `queuedPerStream` events per stream queued ahead of the clients,
 * so the target is never starved, every target is offered the same queue, and latency stays bounded.
 */
import { deliveryFigures } from '../harness/accounting.mjs';
import { sleep } from '../harness/processes.mjs';
import { broadcastRecord, targetedRecord } from '../harness/producer.mjs';
import { fmt } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';
import { profileIfAsked } from '../harness/targets.mjs';
import { RateMeter, SendQueue } from '../harness/traffic.mjs';

/**
 * @param {import('../harness/targets.mjs').Context} ctx
 * @param {'targeted' | 'broadcast'} kind
 */
export async function throughputScenario(ctx, kind) {
  const { session, params, load, label } = ctx;
  const streams = params.streams;
  const eventType = `bench.${kind}`;
  await load.expect(eventType);
  const perEvent = kind === 'broadcast' ? streams : 1;
  const stopProfile = await profileIfAsked(ctx, kind);
  const meter = new RateMeter();
  const cpu = ctx.cpuMarks();
  const t0 = monotonicMs();
  const end = t0 + params.durationS * 1000;
  const sends = new SendQueue(ctx.producer);
  let produced = 0;
  let lastLine = t0;
  for (let now = t0; now < end; now = monotonicMs()) {
    sends.check();
    session.checkStopping();
    const { delivered } = load.progress;
    meter.add(now, delivered);
    const pending = produced * perEvent - delivered;
    const cap = Math.max(4 * perEvent, params.queuedPerStream[kind] * streams);
    const room = Math.floor((cap - pending) / perEvent);
    if (room >= 1 && sends.inFlight < 4) {
      const count = Math.min(room, params.maxBatch);
      const records = [];
      for (let i = 0; i < count; i++) {
        const seq = produced + i;
        records.push(
          kind === 'broadcast'
            ? broadcastRecord(eventType, seq)
            : targetedRecord(eventType, seq, seq % streams),
        );
      }
      produced += count;
      sends.send(records);
    } else {
      await sleep(1);
    }
    if (now - lastLine >= 1000) {
      lastLine = now;
      session.log(
        `${label} ${kind}: ${((now - t0) / 1000).toFixed(0)}/${params.durationS} s, produced ${fmt(produced)} events, ` +
          `delivered ${fmt(delivered)} (${fmt(meter.perSecond)}/s), queued ${fmt(pending)}`,
      );
    }
  }
  await sends.settle();
  const producedUntil = monotonicMs();
  const expected = produced * perEvent;
  const complete = await ctx.drain(expected, kind);
  const profile = await stopProfile();
  const figures = await deliveryFigures(ctx, { t0, produced, expected, complete, cpu, producedUntil });
  session.log(
    `${label} ${kind}: ${fmt(figures.deliveriesPerSecond)} deliveries/s, latency p50 ${figures.latency.p50Ms} ms, ` +
      `p99 ${figures.latency.p99Ms} ms, max ${figures.latency.maxMs} ms; target CPU ${figures.targetCpuPercent}%`,
  );
  return { ...figures, ...(profile ? { profile } : {}) };
}
