// @ts-check
/**
 * One step of the ceiling's search: a fixed rate of a mix for `stepS`. It fails ("falls behind")
 * when delivery lags the offered load by more than `maxLagS` of deliveries, or by more than one
 * second of them when production ends: the test the steady scenario uses for saturation. Every
 * step is drained, so the next one starts from an empty queue.
 */
import { cpuBetween, cpuMarks } from '../harness/accounting.mjs';
import { sleep } from '../harness/processes.mjs';
import { fmt, round } from '../harness/session.mjs';
import { LatencyHistogram, monotonicMs } from '../harness/stats.mjs';
import { mixedRecords, SendQueue } from '../harness/traffic.mjs';
import { closedByServer, delivered, drainCluster } from './ceiling-cluster.mjs';

/** Records a produce request carries at most (as BENCH_MAX_BATCH does for `npm run bench`). */
const MAX_BATCH = 1000;

/** The mixes: share of broadcasts in percent and the rate the first search starts at. @param {{ mixedBroadcastPercent: number }} params */
export function ceilingMixes(params) {
  return {
    targeted: { broadcastPercent: 0, startRate: 8000 },
    mixed: { broadcastPercent: params.mixedBroadcastPercent, startRate: 4000 },
    broadcast: { broadcastPercent: 100, startRate: 16 },
  };
}

/**
 * @param {import('./ceiling-cluster.mjs').Cluster} cluster
 * @param {import('../harness/params.mjs').MixName} mix
 * @param {number} rate events/s offered
 */
export async function ceilingStep(cluster, mix, rate) {
  const { session, params } = cluster;
  const streams = params.streams;
  const percent = ceilingMixes(params)[mix].broadcastPercent;
  const eventType = `bench.ceiling${++cluster.steps}`;
  await Promise.all(cluster.loads.map((load) => load.expect(eventType)));
  const offeredDeliveriesPerSecond = rate * (1 - percent / 100) + rate * (percent / 100) * streams;
  const maxBehind = Math.max(2 * streams, offeredDeliveriesPerSecond * params.maxLagS);
  const closedBefore = closedByServer(cluster);
  const marks = () =>
    cpuMarks({ targets: cluster.gateways, loads: cluster.loads, kafkaPid: session.kafkaPid });
  const before = marks();
  const t0 = monotonicMs();
  const end = t0 + params.stepS * 1000;
  const sends = new SendQueue(cluster.producer);
  let produced = 0;
  let expected = 0;
  let maxSeenBehind = 0;
  /** @type {string | undefined} */
  let fellBehind;
  for (let now = t0; now < end; now = monotonicMs()) {
    sends.check();
    session.checkStopping();
    const behind = expected - delivered(cluster);
    maxSeenBehind = Math.max(maxSeenBehind, behind);
    if (behind > maxBehind) {
      fellBehind = `more than ${params.maxLagS} s of deliveries behind after ${((now - t0) / 1000).toFixed(1)} s`;
      break;
    }
    // At most MAX_BATCH records a request: what fell due while 8 sends were in flight would
    // otherwise go as one request past the broker's message size limit.
    for (let due = Math.floor(((now - t0) / 1000) * rate) - produced; due > 0 && sends.inFlight < 8;) {
      const count = Math.min(due, MAX_BATCH);
      const batch = mixedRecords(eventType, produced, count, percent, streams);
      expected += batch.deliveries;
      produced += count;
      due -= count;
      sends.send(batch.records);
    }
    await sleep(5);
  }
  await sends.settle();
  const producedFor = (monotonicMs() - t0) / 1000;
  // The harness could not produce the offered load (at most 8 requests in flight): the step
  // measured less than it claims, so it cannot pass.
  if (!fellBehind && produced < 0.95 * Math.floor(params.stepS * rate) - 1) {
    fellBehind = `the producer sent only ${fmt(produced / Math.max(1e-3, producedFor))} events/s`;
  }
  const behindAtEnd = expected - delivered(cluster);
  if (!fellBehind && behindAtEnd > Math.max(2 * streams, offeredDeliveriesPerSecond)) {
    fellBehind = `${fmt(behindAtEnd)} deliveries (over 1 s of them) behind when production ended`;
  }
  // A step that fell behind is drained too (bounded), so the next one starts from an empty queue.
  const complete = await drainCluster(
    cluster,
    expected,
    fellBehind ? { idleMs: 5000, hardMs: 60_000 } : { idleMs: 10_000, hardMs: 120_000 },
  );
  const wall = (monotonicMs() - t0) / 1000;
  const cpu = cpuBetween(before, marks(), wall);
  const histogram = new LatencyHistogram();
  let deliveries = 0;
  for (const load of cluster.loads) {
    const stats = await load.stats();
    histogram.add(stats.histogram.toSparse());
    deliveries += stats.delivered;
  }
  const totalCpu = cpu.targets.reduce((sum, value) => sum + value, 0);
  const idleCpu = cluster.idleCpuCores.reduce((sum, value) => sum + value, 0) * wall;
  const workCpu = Math.max(0, totalCpu - idleCpu);
  const closed = closedByServer(cluster) - closedBefore;
  const result = {
    mix,
    offeredEventsPerSecond: round(rate, 1),
    offeredDeliveriesPerSecond: round(offeredDeliveriesPerSecond, 1),
    producedEventsPerSecond: round(produced / Math.max(1e-3, producedFor), 1),
    events: produced,
    expectedDeliveries: expected,
    deliveries,
    complete: complete && deliveries >= expected,
    sustained: fellBehind === undefined && complete,
    ...(fellBehind ? { fellBehind } : {}),
    maxBehindDeliveries: maxSeenBehind,
    streamsClosedByServer: closed,
    seconds: round(wall, 2),
    latency: histogram.summary(),
    /** Each gateway's CPU over the step (producing and draining), 100% = one core. */
    gatewayCpuPercent: cpu.targets.map((seconds) => round((seconds / wall) * 100, 1)),
    /**
     * CPU of all gateways together per event produced, above their idle CPU: N × the per-record
     * cost + the cost of the event's deliveries.
     */
    clusterCpuMicrosPerEvent: produced > 0 ? round((workCpu * 1e6) / produced, 2) : NaN,
    clusterCpuMicrosPerDelivery: deliveries > 0 ? round((workCpu * 1e6) / deliveries, 3) : NaN,
    /** The same including idle CPU. */
    clusterCpuMicrosPerEventWithIdle: produced > 0 ? round((totalCpu * 1e6) / produced, 2) : NaN,
    /** Of all cores: 100% means every core was busy. */
    machineCpuPercent: cpu.machineCpuPercent,
    kafkaCpuPercent: cpu.kafkaCpuPercent,
    loadClientsCpuPercent: cpu.loadClientsCpuPercent,
    harnessCpuPercent: cpu.harnessCpuPercent,
    /**
     * Busy CPU of the machine beyond the gateways, Kafka, the load clients and this harness
     * (100% = one core): the kernel's loopback work and any other process. Above 60% the step
     * was probably disturbed by someone else's work.
     */
    otherCpuPercent: cpu.otherCpuPercent,
  };
  session.log(
    `[n=${cluster.instances}] ${mix} at ${fmt(rate)} events/s (${fmt(offeredDeliveriesPerSecond)} deliveries/s): ` +
      `${result.sustained ? 'sustained' : `FELL BEHIND (${fellBehind ?? 'incomplete'})`}, p99 ${result.latency.p99Ms} ms, ` +
      `gateway CPU ${result.gatewayCpuPercent.join('/')}%, ${result.clusterCpuMicrosPerEvent} µs of cluster CPU per event`,
  );
  if (closed > 0)
    throw new Error(
      `[n=${cluster.instances}] ${closed} streams were closed by the gateway (slow client?) during a step`,
    );
  return result;
}
