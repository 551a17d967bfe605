// @ts-check
/**
 * steady and steadyModerate: a fixed rate of events, `percent` of them broadcasts (spread evenly),
 * the rest targeted; reports latency at that load. If delivery falls `steadyMaxLagS` behind the
 * offered load, the target does not keep up: production stops early, the result is marked
 * saturated and is not drained for long (its latency then measures the backlog, not the service).
 */
import { deliveryFigures } from '../harness/accounting.mjs';
import { sleep } from '../harness/processes.mjs';
import { fmt, round } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';
import { profileIfAsked } from '../harness/targets.mjs';
import { mixedRecords, RateMeter, SendQueue } from '../harness/traffic.mjs';

/**
 * @param {import('../harness/targets.mjs').Context} ctx
 * @param {{ name: string, rate: number, percent: number, durationS: number }} mix
 */
export async function steadyScenario(ctx, { name, rate, percent, durationS: seconds }) {
  const { session, params, load, label } = ctx;
  const streams = params.streams;
  const eventType = `bench.${name}`;
  await load.expect(eventType);
  const stopProfile = await profileIfAsked(ctx, name);
  const offeredDeliveriesPerSecond = rate * (1 - percent / 100) + rate * (percent / 100) * streams;
  const maxPending = Math.max(2 * streams, offeredDeliveriesPerSecond * params.steadyMaxLagS);
  const meter = new RateMeter();
  const cpu = ctx.cpuMarks();
  const t0 = monotonicMs();
  const end = t0 + seconds * 1000;
  const sends = new SendQueue(ctx.producer);
  let produced = 0;
  let expected = 0;
  let broadcasts = 0;
  let saturated = false;
  let lastLine = t0;
  for (let now = t0; now < end; now = monotonicMs()) {
    sends.check();
    session.checkStopping();
    const { delivered } = load.progress;
    meter.add(now, delivered);
    if (expected - delivered > maxPending) {
      saturated = true;
      session.log(
        `${label} ${name}: delivery fell ${params.steadyMaxLagS} s behind the offered load; stopping early (saturated)`,
      );
      break;
    }
    const due = Math.floor(((now - t0) / 1000) * rate) - produced;
    if (due > 0) {
      const batch = mixedRecords(eventType, produced, due, percent, streams);
      broadcasts += batch.broadcasts;
      expected += batch.deliveries;
      produced += due;
      sends.send(batch.records);
    }
    if (now - lastLine >= 1000) {
      lastLine = now;
      session.log(
        `${label} ${name}: ${((now - t0) / 1000).toFixed(0)}/${seconds} s, produced ${fmt(produced)} events, ` +
          `delivered ${fmt(delivered)} (${fmt(meter.perSecond)}/s), behind ${fmt(expected - delivered)}`,
      );
    }
    await sleep(5);
  }
  await sends.settle();
  const producedUntil = monotonicMs();
  // More than a second of deliveries still to come once production ends: it did not keep up either.
  const behind = expected - load.progress.delivered;
  if (!saturated && behind > Math.max(2 * streams, offeredDeliveriesPerSecond)) {
    saturated = true;
    session.log(`${label} ${name}: ${fmt(behind)} deliveries behind when production ended (saturated)`);
  }
  const complete = await ctx.drain(expected, name, saturated ? { idleMs: 3000, hardMs: 10_000 } : {});
  const profile = await stopProfile();
  const figures = await deliveryFigures(ctx, { t0, produced, expected, complete, cpu, producedUntil });
  session.log(
    `${label} ${name}: ${fmt(figures.producedPerSecond)} events/s offered (${percent}% broadcast), ` +
      `${fmt(figures.deliveriesPerSecond)} deliveries/s, latency p50 ${figures.latency.p50Ms} ms, ` +
      `p99 ${figures.latency.p99Ms} ms, max ${figures.latency.maxMs} ms` +
      (saturated ? ' (SATURATED: latency is backlog)' : ''),
  );
  return {
    ...figures,
    offeredEventsPerSecond: round(rate, 1),
    offeredBroadcastPercent: percent,
    offeredDeliveriesPerSecond: round(offeredDeliveriesPerSecond, 1),
    broadcasts,
    saturated,
    ...(profile ? { profile } : {}),
  };
}

/**
 * Events per second a target sustains for a mix with `percent` broadcasts, estimated from its
 * targeted and broadcast delivery rates: one event costs (1 − p)/targeted + p·N/broadcast seconds.
 * @param {{ targeted: { deliveriesPerSecond: number }, broadcast: { deliveriesPerSecond: number } }} figures
 * @param {number} percent
 * @param {number} streams
 */
export function mixedCapacity(figures, percent, streams) {
  const p = percent / 100;
  const secondsPerEvent =
    (1 - p) / figures.targeted.deliveriesPerSecond + (p * streams) / figures.broadcast.deliveriesPerSecond;
  return 1 / secondsPerEvent;
}
