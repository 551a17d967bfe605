// @ts-check
/**
 * `npm run bench` (full) and `npm run bench:smoke`: the gateway's production build under load,
 * against floors measured in the same run, on the same broker, topic and events. See
 * bench/README.md for what is measured and how; every knob is an environment variable (BENCH_*).
 *
 * Order (targets run one after the other, never together, so they never share the two cores):
 *   Kafka (embedded unless KAFKA_BROKERS) → topic → for the gateway, then the raw SSE floor:
 *   start it, open the streams, idle, targeted, broadcast, steady, stop it → plain kafkajs
 *   consumer over every record produced → results JSON + Markdown.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';
import { EmbeddedKafka, KAFKA_VERSION } from '../scripts/embedded-kafka.mjs';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
import { nodeFlagsOr } from '../scripts/node-flags.mjs';
import { BENCH_AUDIENCE } from './jwt.mjs';
import { Load } from './load.mjs';
import {
  benchDir,
  cpuSecondsOf,
  findKafkaPid,
  killAllChildrenSync,
  projectRoot,
  sleep,
  stopAllChildren,
  TargetProcess,
} from './processes.mjs';
import { BenchProducer, broadcastRecord, targetedRecord, BROADCAST_DATA_BYTES } from './producer.mjs';
import { formatProfileSummary, summariseProfile } from './profile-summary.mjs';
import { get, markdownReport } from './report.mjs';
import { monotonicMs } from './stats.mjs';

const { Kafka, logLevel } = kafkajs;

// ---------------------------------------------------------------------------------------------
// Parameters

const env = process.env;
const smoke = env.BENCH_SMOKE === '1' || env.BENCH_SMOKE === 'true';

/** @param {string} name @param {number} fallback @param {number} [min] @param {number} [max] */
function numberEnv(name, fallback, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected a number from ${min} to ${max}`);
  }
  return value;
}

const streams = Math.round(numberEnv('BENCH_STREAMS', smoke ? 200 : 10_000, 1, 19_000));
const streamsPerClient = Math.round(numberEnv('BENCH_STREAMS_PER_CLIENT', 5000, 1, 15_000));
const durationS = numberEnv('BENCH_DURATION_S', smoke ? 3 : 20, 0.5, 3600);
const targetsWanted = splitList(env.BENCH_TARGETS ?? 'gateway,raw');
const params = {
  mode: smoke ? 'smoke' : 'full',
  streams,
  durationS,
  steadyDurationS: numberEnv('BENCH_STEADY_DURATION_S', durationS, 0.5, 3600),
  steadyRate: numberEnv('BENCH_STEADY_RATE', 1000, 1, 1_000_000),
  // One broadcast a second at 1,000 events/s: each one reaches every stream, so 10% would be 1M deliveries/s.
  steadyBroadcastPercent: numberEnv('BENCH_STEADY_BROADCAST_PCT', 0.1, 0, 100),
  /** The steady scenario stops producing once delivery is this far behind (it did not keep up). */
  steadyMaxLagS: numberEnv('BENCH_STEADY_MAX_LAG_S', 5, 0.5, 600),
  /** steadyModerate offers the steady mix at this fraction of the gateway's estimated capacity for it. */
  moderateFraction: numberEnv('BENCH_MODERATE_FRACTION', 0.5, 0.01, 1),
  /**
   * Events per stream the throughput scenarios keep queued ahead of the clients: the same for
   * every target, so each one is offered the same work and reads fetches of the same size (a
   * queue that grew with the target's own rate gave a faster target larger fetches, hence fewer
   * socket writes per delivery, and made the slower one look slower still).
   */
  queuedPerStream: {
    targeted: Math.round(numberEnv('BENCH_QUEUED_TARGETED_PER_STREAM', 8, 1, 1000)),
    broadcast: Math.round(numberEnv('BENCH_QUEUED_BROADCAST_PER_STREAM', 32, 1, 1000)),
  },
  maxBatch: Math.round(numberEnv('BENCH_MAX_BATCH', 1000, 1, 100_000)),
  clients: Math.round(numberEnv('BENCH_CLIENTS', Math.max(2, Math.ceil(streams / streamsPerClient)), 1, 253)),
  connectConcurrency: Math.round(numberEnv('BENCH_CONNECT_CONCURRENCY', 32, 1, 5000)),
  idleSettleS: numberEnv('BENCH_IDLE_SETTLE_S', smoke ? 1 : 3, 0, 600),
  partitions: Math.round(numberEnv('BENCH_PARTITIONS', 3, 1, 1000)),
  /** Partitions of the topic of the wide scenario (0 leaves it out). */
  widePartitions: Math.round(numberEnv('BENCH_WIDE_PARTITIONS', smoke ? 8 : 64, 0, 1000)),
  /** Broadcasts sent one at a time in the fan-out scenario. */
  fanoutEvents: Math.round(numberEnv('BENCH_FANOUT_EVENTS', smoke ? 2 : 10, 1, 1000)),
  /** Whether idle streams are also measured on the Nest @Sse() floor (BENCH_NEST_FLOOR=0 leaves it out). */
  nestFloor: env.BENCH_NEST_FLOOR !== '0',
  /** Records a second of the storm's 15 minutes of history (0 leaves the storm out). */
  stormRate: numberEnv('BENCH_STORM_RATE', smoke ? 5 : 100, 0, 10_000),
  topic:
    env.BENCH_TOPIC ??
    `bench-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(2).toString('hex')}`,
  heartbeatMs: 15_000,
  replayMaxBytes: Math.round(numberEnv('BENCH_REPLAY_MAX_BYTES', 64 * 1024 ** 2, 0)),
  broadcastDataBytes: BROADCAST_DATA_BYTES,
  targets: targetsWanted,
  /** Scenarios to CPU-profile, e.g. "broadcast" or "targeted,broadcast"; profiles go to the work dir. */
  profile: splitList(env.BENCH_PROFILE),
  profileTargets: splitList(env.BENCH_PROFILE_TARGETS ?? 'gateway'),
  /** node flags of every process under test: `npm start`'s unless BENCH_NODE_OPTIONS says otherwise. */
  nodeOptions: nodeFlagsOr(env.BENCH_NODE_OPTIONS),
  timeoutS: numberEnv('BENCH_TIMEOUT_S', smoke ? 140 : 1800, 10),
};
for (const target of targetsWanted) {
  if (target !== 'gateway' && target !== 'raw') throw new Error(`BENCH_TARGETS: unknown target ${target}`);
}
/**
 * What runs: the gateway, the raw floor (every scenario), and the Nest @Sse() floor, which only
 * holds idle streams: what the framework alone keeps per connection.
 */
const TARGET_KINDS = {
  gateway: { name: 'gateway', file: '' },
  raw: { name: 'raw SSE floor', file: 'raw-sse-server.mjs' },
  nest: { name: 'Nest @Sse() floor', file: 'nest-sse-floor.mjs' },
};
if (Math.ceil(streams / params.clients) > 15_000) {
  throw new Error(
    'Too many streams per load client: raise BENCH_CLIENTS (one process holds at most ~19k sockets)',
  );
}
const resultsDir = resolve(env.BENCH_RESULTS_DIR ?? join(benchDir, 'results'));
const stamp = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replace(/:/g, '-');
const workDir = resolve(
  env.BENCH_WORK_DIR ?? join(os.tmpdir(), `kafka-sse-gateway-bench-${stamp}-${process.pid}`),
);
const secret = randomBytes(32).toString('base64url');

// ---------------------------------------------------------------------------------------------
// Output and clean-up

const startedAt = new Date();
const started = monotonicMs();
/** @param {string} line */
function log(line) {
  const seconds = Math.floor((monotonicMs() - started) / 1000);
  const clock = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  console.log(`[bench ${clock}] ${line}`);
}
const fmt = (/** @type {number} */ n) =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);

/** Releases resources in reverse order of acquisition, once each. */
/** @type {Array<{ what: string, run: () => Promise<unknown> }>} */
const cleanups = [];
/**
 * Registers a release to run at clean-up; returns the function that runs it now instead.
 * @template T
 * @param {string} what
 * @param {() => Promise<T>} run
 * @returns {() => Promise<T>}
 */
function onCleanup(what, run) {
  const item = { what, run };
  cleanups.push(item);
  return () => {
    const index = cleanups.indexOf(item);
    if (index !== -1) cleanups.splice(index, 1);
    return run();
  };
}
async function cleanUp() {
  while (cleanups.length > 0) {
    const item = /** @type {(typeof cleanups)[number]} */ (cleanups.pop());
    await Promise.race([
      item
        .run()
        .catch((/** @type {unknown} */ err) => log(`clean-up of ${item.what} failed: ${String(err)}`)),
      sleep(30_000),
    ]);
  }
  await stopAllChildren();
}

let exiting = false;
/** @param {string} reason @param {number} code */
function abort(reason, code) {
  if (exiting) return;
  exiting = true;
  console.error(`[bench] ${reason}; stopping everything`);
  void cleanUp().finally(() => process.exit(code));
  setTimeout(() => process.exit(code), 45_000).unref();
}
process.on('SIGINT', () => abort('interrupted (SIGINT)', 130));
process.on('SIGTERM', () => abort('terminated (SIGTERM)', 143));
process.on('exit', killAllChildrenSync);
const watchdog = setTimeout(
  () => abort(`overall deadline of ${params.timeoutS} s passed`, 1),
  params.timeoutS * 1000,
);

// ---------------------------------------------------------------------------------------------
// Scenarios

/**
 * @typedef {{ target: TargetProcess, load: Load, producer: BenchProducer, label: string }} Context
 */

/**
 * Waits until the clients have `expected` deliveries; gives up when nothing arrives for `idleMs`
 * or at `hardMs`, and says whether everything arrived.
 * @param {Context} ctx
 * @param {number} expected
 * @param {string} what
 * @param {{ idleMs?: number, hardMs?: number }} [limits]
 */
async function drain(ctx, expected, what, { idleMs = 10_000, hardMs = 120_000 } = {}) {
  const start = monotonicMs();
  let lastCount = -1;
  let lastChange = start;
  let lastLine = start;
  for (;;) {
    if (exiting) throw new Error('stopping');
    const { delivered } = ctx.load.progress;
    const now = monotonicMs();
    if (delivered >= expected) return true;
    if (delivered !== lastCount) {
      lastCount = delivered;
      lastChange = now;
    }
    if (now - lastChange > idleMs || now - start > hardMs) {
      log(`${ctx.label} ${what}: gave up waiting with ${fmt(delivered)} of ${fmt(expected)} deliveries`);
      return false;
    }
    if (now - lastLine >= 1000) {
      lastLine = now;
      log(`${ctx.label} ${what}: draining, ${fmt(delivered)} of ${fmt(expected)} delivered`);
    }
    await sleep(20);
  }
}

/**
 * Delivered rate over the last second, from progress samples.
 */
class RateMeter {
  /** @type {Array<[number, number]>} */
  samples = [];
  /** @param {number} now @param {number} count */
  add(now, count) {
    this.samples.push([now, count]);
    while (this.samples.length > 2 && now - (this.samples[1]?.[0] ?? now) >= 1000) this.samples.shift();
  }
  get perSecond() {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last[0] - first[0] < 200) return 0;
    return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  }
}

/**
 * CPU time used so far by the target, the load clients, this harness (which produces), the Kafka
 * broker and the whole machine, to tell afterwards who was busy; and the target's write calls.
 * @param {Context} ctx
 */
function cpuMarks(ctx) {
  const harness = process.cpuUsage();
  let kafka = NaN;
  try {
    if (kafkaPid !== undefined) kafka = cpuSecondsOf(kafkaPid);
  } catch {
    // not readable
  }
  return {
    target: ctx.target.cpuSeconds(),
    targetIo: ctx.target.io(),
    load: loadCpuSeconds(ctx.load),
    harness: (harness.user + harness.system) / 1e6,
    kafka,
    machine: machineCpu(),
  };
}

/** The Kafka broker's process, when it can be found (see findKafkaPid). */
/** @type {number | undefined} */
let kafkaPid;

/**
 * CPU time of the whole machine, in seconds, from /proc/stat: busy (user, nice, system, irq,
 * softirq), stolen by the hypervisor, and the total.
 */
function machineCpu() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy: busy / 100, steal: steal / 100, total: (busy + idle + iowait + steal) / 100 };
  } catch {
    return { busy: NaN, steal: NaN, total: NaN };
  }
}

/**
 * Figures common to the scenarios that deliver events. Deliveries/s are counted from the first
 * record produced to the last receipt; CPU over the whole scenario, producing and draining.
 * @param {Context} ctx
 * @param {{ t0: number, produced: number, expected: number, complete: boolean,
 *   cpu: ReturnType<typeof cpuMarks>, producedUntil: number }} run
 */
async function deliveryFigures(ctx, run) {
  const now = cpuMarks(ctx);
  const wall = Math.max(1e-3, (monotonicMs() - run.t0) / 1000);
  const percentOf = (/** @type {number} */ used) => round((used / wall) * 100, 1);
  const targetCpu = now.target - run.cpu.target;
  const stats = await ctx.load.stats();
  const end = stats.lastAt ?? monotonicMs();
  const seconds = Math.max(1e-3, (end - run.t0) / 1000);
  const machineTotal = now.machine.total - run.cpu.machine.total;
  const machineBusy = now.machine.busy - run.cpu.machine.busy;
  const known =
    targetCpu +
    (now.load - run.cpu.load) +
    (now.harness - run.cpu.harness) +
    (Number.isFinite(now.kafka - run.cpu.kafka) ? now.kafka - run.cpu.kafka : 0);
  return {
    events: run.produced,
    expectedDeliveries: run.expected,
    deliveries: stats.delivered,
    complete: run.complete && stats.delivered >= run.expected,
    seconds: round(seconds, 3),
    producedPerSecond: round(run.produced / Math.max(1e-3, (run.producedUntil - run.t0) / 1000), 1),
    eventsPerSecond: round(
      (run.produced * Math.min(1, stats.delivered / Math.max(1, run.expected))) / seconds,
      1,
    ),
    deliveriesPerSecond: round(stats.delivered / seconds, 1),
    latency: stats.histogram.summary(),
    targetCpuSeconds: round(targetCpu, 2),
    targetCpuPercent: percentOf(targetCpu),
    targetCpuMicrosPerDelivery: stats.delivered > 0 ? round((targetCpu * 1e6) / stats.delivered, 2) : NaN,
    loadClientsCpuPercent: percentOf(now.load - run.cpu.load),
    harnessCpuPercent: percentOf(now.harness - run.cpu.harness),
    kafkaCpuPercent: percentOf(now.kafka - run.cpu.kafka),
    /** Of all cores: 100% means every core was busy (target, clients, harness, Kafka, the rest). */
    machineCpuPercent:
      machineTotal > 0 ? round(((now.machine.busy - run.cpu.machine.busy) / machineTotal) * 100, 1) : NaN,
    /**
     * Busy CPU not used by the target, the clients, the harness or Kafka: the kernel's network
     * work outside those processes, and any other process on the machine (100% = one core).
     */
    otherCpuPercent: percentOf(Math.max(0, machineBusy - known)),
    machineStealPercent:
      machineTotal > 0 ? round(((now.machine.steal - run.cpu.machine.steal) / machineTotal) * 100, 1) : NaN,
    /** write/writev system calls the target made per delivery (/proc/<pid>/io syscw). */
    targetWriteCallsPerDelivery:
      stats.delivered > 0
        ? round((now.targetIo.writeCalls - run.cpu.targetIo.writeCalls) / stats.delivered, 3)
        : NaN,
    targetBytesWrittenPerDelivery:
      stats.delivered > 0
        ? round((now.targetIo.writtenBytes - run.cpu.targetIo.writtenBytes) / stats.delivered, 1)
        : NaN,
  };
}

/** @param {Load} load */
function loadCpuSeconds(load) {
  let total = 0;
  for (const client of load.clients) {
    try {
      if (client.child.pid !== undefined) total += cpuSecondsOf(client.child.pid);
    } catch {
      // exited
    }
  }
  return total;
}

/** @param {number} value @param {number} digits */
function round(value, digits) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Starts profiling `scenario` on this target if asked to; returns the function that stops it.
 * @param {Context} ctx
 * @param {'gateway' | 'raw'} kind
 * @param {string} scenario
 */
async function maybeProfile(ctx, kind, scenario) {
  /** @type {() => Promise<{ file: string, summary: import('./profile-summary.mjs').ProfileSummary } | undefined>} */
  const none = () => Promise.resolve(undefined);
  if (!params.profile.includes(scenario) || !params.profileTargets.includes(kind)) return none;
  await ctx.target.profileStart();
  log(`${ctx.label} ${scenario}: CPU profiler on`);
  return async () => {
    const file = join(workDir, `${kind}-${scenario}.cpuprofile`);
    await ctx.target.profileStop(file);
    /** @type {unknown} */
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    const summary = summariseProfile(/** @type {import('./profile-summary.mjs').CpuProfile} */ (profile), 30);
    log(`${ctx.label} ${scenario}: profile written to ${file}\n${formatProfileSummary(summary)}`);
    return { file, summary };
  };
}

/** @typedef {Awaited<ReturnType<typeof deliveryFigures>>} DeliveryFigures */

/**
 * Targeted or broadcast at the highest rate the target sustains: records are produced in batches
 * for `durationS`, keeping `queuedPerStream` events per stream queued ahead of the clients, so the
 * target is never starved, every target is offered the same queue, and latency stays bounded.
 * @param {Context} ctx
 * @param {'targeted' | 'broadcast'} kind
 * @param {'gateway' | 'raw'} targetKind
 */
async function throughputScenario(ctx, kind, targetKind) {
  const eventType = `bench.${kind}`;
  await ctx.load.expect(eventType);
  const perEvent = kind === 'broadcast' ? streams : 1;
  const stopProfile = await maybeProfile(ctx, targetKind, kind);
  const meter = new RateMeter();
  const cpu = cpuMarks(ctx);
  const t0 = monotonicMs();
  const end = t0 + durationS * 1000;
  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  /** @type {unknown} */
  let sendError;
  let produced = 0;
  let lastLine = t0;
  for (let now = t0; now < end; now = monotonicMs()) {
    if (sendError) throw asError(sendError);
    if (exiting) throw new Error('stopping');
    const { delivered } = ctx.load.progress;
    meter.add(now, delivered);
    const pending = produced * perEvent - delivered;
    const cap = Math.max(4 * perEvent, params.queuedPerStream[kind] * streams);
    const room = Math.floor((cap - pending) / perEvent);
    if (room >= 1 && inFlight.size < 4) {
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
      const sending = ctx.producer
        .send(records)
        .catch((/** @type {unknown} */ err) => void (sendError = err));
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    } else {
      await sleep(1);
    }
    if (now - lastLine >= 1000) {
      lastLine = now;
      log(
        `${ctx.label} ${kind}: ${((now - t0) / 1000).toFixed(0)}/${durationS} s, produced ${fmt(produced)} events, ` +
          `delivered ${fmt(delivered)} (${fmt(meter.perSecond)}/s), queued ${fmt(pending)}`,
      );
    }
  }
  await Promise.all(inFlight);
  if (sendError) throw asError(sendError);
  const producedUntil = monotonicMs();
  const expected = produced * perEvent;
  const complete = await drain(ctx, expected, kind);
  const profile = await stopProfile();
  const figures = await deliveryFigures(ctx, { t0, produced, expected, complete, cpu, producedUntil });
  log(
    `${ctx.label} ${kind}: ${fmt(figures.deliveriesPerSecond)} deliveries/s, latency p50 ${figures.latency.p50Ms} ms, ` +
      `p99 ${figures.latency.p99Ms} ms, max ${figures.latency.maxMs} ms; target CPU ${figures.targetCpuPercent}%`,
  );
  return { ...figures, ...(profile ? { profile } : {}) };
}

/**
 * A fixed rate of events, `percent` of them broadcasts (spread evenly), the rest targeted; reports
 * latency at that load. If delivery falls `steadyMaxLagS` behind the offered load, the target does
 * not keep up: production stops early, the result is marked saturated and is not drained for long
 * (its latency then measures the backlog, not the service).
 * @param {Context} ctx
 * @param {'gateway' | 'raw'} targetKind
 * @param {{ name: string, rate: number, percent: number, durationS: number }} load
 */
async function steadyScenario(ctx, targetKind, { name, rate, percent, durationS: seconds }) {
  const eventType = `bench.${name}`;
  await ctx.load.expect(eventType);
  const stopProfile = await maybeProfile(ctx, targetKind, name);
  const offeredDeliveriesPerSecond = rate * (1 - percent / 100) + rate * (percent / 100) * streams;
  const maxPending = Math.max(2 * streams, offeredDeliveriesPerSecond * params.steadyMaxLagS);
  const meter = new RateMeter();
  const cpu = cpuMarks(ctx);
  const t0 = monotonicMs();
  const end = t0 + seconds * 1000;
  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  /** @type {unknown} */
  let sendError;
  let produced = 0;
  let expected = 0;
  let broadcasts = 0;
  let saturated = false;
  let lastLine = t0;
  for (let now = t0; now < end; now = monotonicMs()) {
    if (sendError) throw asError(sendError);
    if (exiting) throw new Error('stopping');
    const { delivered } = ctx.load.progress;
    meter.add(now, delivered);
    if (expected - delivered > maxPending) {
      saturated = true;
      log(
        `${ctx.label} ${name}: delivery fell ${params.steadyMaxLagS} s behind the offered load; stopping early (saturated)`,
      );
      break;
    }
    const due = Math.floor(((now - t0) / 1000) * rate) - produced;
    if (due > 0) {
      const records = [];
      for (let i = 0; i < due; i++) {
        const seq = produced + i;
        // Broadcasts spread evenly: seq is one when floor(seq·p/100) steps up.
        const isBroadcast = Math.floor(((seq + 1) * percent) / 100) > Math.floor((seq * percent) / 100);
        if (isBroadcast) {
          broadcasts++;
          expected += streams;
          records.push(broadcastRecord(eventType, seq));
        } else {
          expected += 1;
          records.push(targetedRecord(eventType, seq, seq % streams));
        }
      }
      produced += due;
      const sending = ctx.producer
        .send(records)
        .catch((/** @type {unknown} */ err) => void (sendError = err));
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    }
    if (now - lastLine >= 1000) {
      lastLine = now;
      log(
        `${ctx.label} ${name}: ${((now - t0) / 1000).toFixed(0)}/${seconds} s, produced ${fmt(produced)} events, ` +
          `delivered ${fmt(delivered)} (${fmt(meter.perSecond)}/s), behind ${fmt(expected - delivered)}`,
      );
    }
    await sleep(5);
  }
  await Promise.all(inFlight);
  if (sendError) throw asError(sendError);
  const producedUntil = monotonicMs();
  // More than a second of deliveries still to come once production ends: it did not keep up either.
  const behind = expected - ctx.load.progress.delivered;
  if (!saturated && behind > Math.max(2 * streams, offeredDeliveriesPerSecond)) {
    saturated = true;
    log(`${ctx.label} ${name}: ${fmt(behind)} deliveries behind when production ended (saturated)`);
  }
  const complete = await drain(ctx, expected, name, saturated ? { idleMs: 3000, hardMs: 10_000 } : {});
  const profile = await stopProfile();
  const figures = await deliveryFigures(ctx, { t0, produced, expected, complete, cpu, producedUntil });
  log(
    `${ctx.label} ${name}: ${fmt(figures.producedPerSecond)} events/s offered (${percent}% broadcast), ` +
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
 */
function mixedCapacity(figures, percent) {
  const p = percent / 100;
  const secondsPerEvent =
    (1 - p) / figures.targeted.deliveriesPerSecond + (p * streams) / figures.broadcast.deliveriesPerSecond;
  return 1 / secondsPerEvent;
}

/** @param {unknown} err */
function asError(err) {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * One broadcast and a round of targeted events, all awaited: proves every stream is subscribed end
 * to end, and warms up the code paths, before anything is measured.
 * @param {Context} ctx
 */
async function warmUp(ctx) {
  await ctx.load.expect('bench.warm');
  const targeted = Math.min(streams, 2000);
  const records = [broadcastRecord('bench.warm', 0)];
  for (let i = 0; i < targeted; i++) records.push(targetedRecord('bench.warm', i + 1, i));
  await ctx.producer.send(records);
  const ok = await drain(ctx, streams + targeted, 'warm-up', { idleMs: 15_000, hardMs: 60_000 });
  if (!ok) throw new Error(`${ctx.label}: warm-up events did not reach every stream`);
}

/**
 * Starts a target on `topic` and opens the load's streams on it (resuming from `lastEventId`
 * when given); returns the context and the idle memory figures, and a function that stops both.
 * @param {keyof typeof TARGET_KINDS} kind
 * @param {{ brokers: string[], producer: BenchProducer, topic: string, name: string,
 *   env?: Record<string, string>, lastEventId?: string, connectConcurrency?: number }} setup
 */
async function startTarget(kind, setup) {
  const { name, file } = TARGET_KINDS[kind];
  const label = `[${name}${setup.name}]`;
  const script = kind === 'gateway' ? join(projectRoot, 'dist', 'main.js') : join(benchDir, file);
  if (!existsSync(script))
    throw new Error(`${script} is missing: run \`npm run build\` first (npm run bench does)`);
  log(`${label} starting ${relative(projectRoot, script)}`);
  const target = await TargetProcess.start({
    name: `the ${name}`,
    script,
    nodeArgs: params.nodeOptions,
    env: {
      PATH: env.PATH ?? '',
      NO_COLOR: '1',
      KAFKA_BROKERS: setup.brokers.join(','),
      KAFKA_TOPICS: setup.topic,
      KAFKA_GROUP_PREFIX: 'bench',
      JWT_SECRET: secret,
      JWT_AUDIENCE: BENCH_AUDIENCE,
      HOST: '127.0.0.1',
      PORT: '0',
      SSE_HEARTBEAT_MS: String(params.heartbeatMs),
      SSE_MAX_LIFETIME_MS: String(24 * 3600_000),
      REPLAY_MAX_BYTES: String(params.replayMaxBytes),
      // The load opens streams as fast as it can; the storm measures the open rate limit.
      STREAM_OPENS_PER_SECOND: '1000000',
      ...setup.env,
    },
    logFile: join(workDir, `${kind}${setup.name.replace(/\W+/g, '-')}.log`),
    startTimeoutMs: 180_000,
  });
  const stopTarget = onCleanup(`${label} process`, () => target.stop());
  const load = new Load({
    streams,
    clients: params.clients,
    concurrency: params.connectConcurrency,
    secret,
    tokenTtlSeconds: Math.max(3600, params.timeoutS * 2),
  });
  const closeLoad = onCleanup(`${label} load clients`, () => load.close());
  /** @type {Context} */
  const ctx = { target, load, producer: setup.producer, label };
  const stop = async () => {
    log(`${label} closing streams and stopping`);
    await closeLoad();
    const { code, signal } = await stopTarget();
    log(`${label} stopped (${signal ?? `exit ${code}`})`);
  };
  try {
    log(`${label} up at ${target.url} (pid ${target.pid}), ready`);
    const before = await target.memory();
    const openStart = monotonicMs();
    const resume = {
      ...(setup.lastEventId === undefined ? {} : { lastEventId: setup.lastEventId }),
      ...(setup.connectConcurrency === undefined ? {} : { concurrency: setup.connectConcurrency }),
    };
    const opened = await load.open(
      new URL('/events', target.url),
      Math.max(60_000, streams * 20),
      (p) =>
        log(
          `${label} opening streams: ${fmt(p.opened)} of ${fmt(streams)} open, ` +
            `${fmt(p.attempts - p.opened)} attempts pending or failed, ${fmt(p.refused)} told to retry later`,
        ),
      resume,
    );
    const openSeconds = (monotonicMs() - openStart) / 1000;
    log(
      `${label} ${fmt(opened)} streams open in ${openSeconds.toFixed(1)} s; idling ${params.idleSettleS} s`,
    );
    await sleep(params.idleSettleS * 1000);
    const after = await target.memory();
    const idle = {
      streams: opened,
      openSeconds: round(openSeconds, 2),
      connectsPerSecond: round(opened / openSeconds, 1),
      refusedOpens: load.progress.refused,
      rssBeforeBytes: before.rss,
      rssAfterBytes: after.rss,
      heapUsedBeforeBytes: before.heapUsed,
      heapUsedAfterBytes: after.heapUsed,
      rssPerStreamBytes: round((after.rss - before.rss) / opened, 1),
      heapPerStreamBytes: round((after.heapUsed - before.heapUsed) / opened, 1),
      externalPerStreamBytes: round((after.external - before.external) / opened, 1),
      procRssPerStreamBytes: round((after.procRss - before.procRss) / opened, 1),
    };
    log(
      `${label} idle: RSS ${fmt(idle.rssPerStreamBytes)} B/stream, heap ${fmt(idle.heapPerStreamBytes)} B/stream ` +
        `(RSS ${fmt(before.rss / 2 ** 20)} → ${fmt(after.rss / 2 ** 20)} MiB)`,
    );
    return { ctx, idle, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * One target, every scenario: start, streams, idle, warm-up, targeted, broadcast, fan-out,
 * steady, stop.
 * @param {'gateway' | 'raw'} kind
 * @param {{ brokers: string[], producer: BenchProducer, moderateRate?: number }} shared
 */
async function runTarget(kind, shared) {
  const { ctx, idle, stop } = await startTarget(kind, { ...shared, topic: params.topic, name: '' });
  const { target, load } = ctx;
  try {
    await warmUp(ctx);
    const targeted = await throughputScenario(ctx, 'targeted', kind);
    const broadcast = await throughputScenario(ctx, 'broadcast', kind);
    const fanout = await fanoutScenario(ctx);
    // The steady mix at a load below saturation: a fraction of the capacity the gateway showed
    // (the floor gets the same load as the gateway, so their latencies compare).
    shared.moderateRate ??= Math.max(
      1,
      Math.floor(
        params.moderateFraction * mixedCapacity({ targeted, broadcast }, params.steadyBroadcastPercent),
      ),
    );
    const steadyModerate = await steadyScenario(ctx, kind, {
      name: 'steadyModerate',
      rate: shared.moderateRate,
      percent: params.steadyBroadcastPercent,
      durationS: params.steadyDurationS,
    });
    // Memory once it has carried traffic (the replay buffer holds events now); best effort.
    const afterTraffic = await target.memory().catch(() => undefined);
    // Last, as it may saturate: a backlog left behind then delays nothing that is measured.
    const steady = await steadyScenario(ctx, kind, {
      name: 'steady',
      rate: params.steadyRate,
      percent: params.steadyBroadcastPercent,
      durationS: params.steadyDurationS,
    });
    const { closed } = load.progress;
    if (closed > 0) log(`${ctx.label} WARNING: ${closed} streams were closed by the server during the run`);
    return {
      idle,
      targeted,
      broadcast,
      fanout,
      steady,
      steadyModerate,
      streamsClosedByServer: closed,
      rssAfterTrafficBytes: afterTraffic?.rss ?? null,
      heapUsedAfterTrafficBytes: afterTraffic?.heapUsed ?? null,
      logFile: target.logFile,
    };
  } finally {
    await stop();
  }
}

/**
 * Targeted delivery on a topic of `params.widePartitions` partitions: every id carries one offset
 * per partition, so this is where their length and cost show.
 * @param {'gateway' | 'raw'} kind
 * @param {{ brokers: string[], producer: BenchProducer, topic: string }} wide
 */
async function runWide(kind, wide) {
  const { ctx, stop } = await startTarget(kind, { ...wide, name: ` ${params.widePartitions} partitions` });
  try {
    await warmUp(ctx);
    const targeted = await throughputScenario(ctx, 'targeted', kind);
    const { idLength } = await ctx.load.stats();
    return { partitions: params.widePartitions, targeted, idLength: idLength ?? null };
  } finally {
    await stop();
  }
}

/**
 * One broadcast at a time to every stream, `params.fanoutEvents` times: the latency of a single
 * event's fan-out, from its production to each stream's receipt, with nothing else queued.
 * @param {Context} ctx
 */
async function fanoutScenario(ctx) {
  const eventType = 'bench.fanout';
  await ctx.load.expect(eventType);
  const cpu = cpuMarks(ctx);
  const t0 = monotonicMs();
  let produced = 0;
  let complete = true;
  for (let i = 0; i < params.fanoutEvents && complete; i++) {
    await ctx.producer.send([broadcastRecord(eventType, i)]);
    produced++;
    complete = await drain(ctx, produced * streams, `fan-out ${produced}`, {
      idleMs: 10_000,
      hardMs: 60_000,
    });
  }
  const figures = await deliveryFigures(ctx, {
    t0,
    produced,
    expected: produced * streams,
    complete,
    cpu,
    producedUntil: monotonicMs(),
  });
  log(
    `${ctx.label} fan-out: ${produced} broadcasts one at a time to ${fmt(streams)} streams, latency p50 ${figures.latency.p50Ms} ms, ` +
      `p99 ${figures.latency.p99Ms} ms, max ${figures.latency.maxMs} ms`,
  );
  return figures;
}

/**
 * A reconnect storm: the gateway starts on a topic holding 15 minutes of mixed traffic (records
 * stamped over the window, so the replay buffer holds them once warm), then every stream arrives
 * at once, resuming from an id one minute old, at the default open rate limit. Reports how long
 * until every stream is open and until every one is live (has a broadcast sent after the storm),
 * and the gateway's worst event-loop delay meanwhile.
 * @param {{ brokers: string[], topic: string }} storm
 */
async function runStorm(storm) {
  const label = '[gateway storm]';
  const producer = new BenchProducer(storm.brokers, storm.topic);
  await producer.connect();
  const disconnect = onCleanup('storm producer', () => producer.disconnect());
  try {
    const now = Date.now();
    const windowMs = 15 * 60_000;
    const total = Math.round(params.stormRate * (windowMs / 1000));
    log(
      `${label} producing ${fmt(total)} records stamped over the last 15 minutes (${params.stormRate}/s, 0.1% broadcast)`,
    );
    for (let from = 0; from < total; from += 1000) {
      const records = [];
      for (let seq = from; seq < Math.min(total, from + 1000); seq++) {
        const record =
          seq % 1000 === 999
            ? broadcastRecord('bench.history', seq)
            : targetedRecord('bench.history', seq, seq % streams);
        records.push({ ...record, timestamp: String(Math.round(now - windowMs + (seq * windowMs) / total)) });
      }
      await producer.send(records);
    }
    const admin = new Kafka({
      brokers: storm.brokers,
      clientId: 'bench-storm',
      logLevel: logLevel.WARN,
    }).admin();
    await admin.connect();
    const oneMinuteAgo = await admin
      .fetchTopicOffsetsByTimestamp(storm.topic, now - 60_000)
      .finally(() => admin.disconnect());
    const LogPosition = await gatewayLogPosition();
    const cursor = LogPosition.empty();
    for (const { partition, offset } of oneMinuteAgo) cursor.set(storm.topic, partition, Number(offset));
    const lastEventId = cursor.format([storm.topic]);
    const gateway = await TargetProcess.start({
      name: 'the gateway (storm)',
      script: join(projectRoot, 'dist', 'main.js'),
      nodeArgs: params.nodeOptions,
      env: {
        PATH: env.PATH ?? '',
        NO_COLOR: '1',
        KAFKA_BROKERS: storm.brokers.join(','),
        KAFKA_TOPICS: storm.topic,
        KAFKA_GROUP_PREFIX: 'bench',
        JWT_SECRET: secret,
        JWT_AUDIENCE: BENCH_AUDIENCE,
        HOST: '127.0.0.1',
        PORT: '0',
        SSE_HEARTBEAT_MS: String(params.heartbeatMs),
        SSE_MAX_LIFETIME_MS: String(24 * 3600_000),
      },
      logFile: join(workDir, 'gateway-storm.log'),
      startTimeoutMs: 180_000,
    });
    const stopGateway = onCleanup(`${label} process`, () => gateway.stop());
    const load = new Load({
      streams,
      clients: params.clients,
      concurrency: params.connectConcurrency,
      secret,
      tokenTtlSeconds: Math.max(3600, params.timeoutS * 2),
    });
    const closeLoad = onCleanup(`${label} load clients`, () => load.close());
    try {
      const metricsBefore = await gatewayCounters(gateway.url);
      await gateway.loopDelayStart();
      const started = monotonicMs();
      await load.open(
        new URL('/events', gateway.url),
        Math.max(120_000, streams * 30),
        (p) =>
          log(`${label} ${fmt(p.opened)} of ${fmt(streams)} open, ${fmt(p.refused)} told to retry later`),
        { lastEventId, concurrency: Math.ceil(streams / params.clients) },
      );
      const openSeconds = (monotonicMs() - started) / 1000;
      await load.expect('bench.live');
      await producer.send([broadcastRecord('bench.live', 0)]);
      const live = await drain(
        /** @type {Context} */ ({ target: gateway, load, producer, label }),
        streams,
        'live',
        {
          idleMs: 30_000,
          hardMs: 120_000,
        },
      );
      const liveSeconds = (monotonicMs() - started) / 1000;
      const loop = await gateway.loopDelayStop();
      const metricsAfter = await gatewayCounters(gateway.url);
      const result = {
        streams,
        bufferedRecords: total,
        openSeconds: round(openSeconds, 2),
        liveSeconds: round(liveSeconds, 2),
        everyStreamLive: live,
        refusedOpens: load.progress.refused,
        replays: metricsAfter.replays - metricsBefore.replays,
        replayedEvents: metricsAfter.replayedEvents - metricsBefore.replayedEvents,
        resets: metricsAfter.resets - metricsBefore.resets,
        maxEventLoopDelayMs: round(loop.maxMs, 1),
        p99EventLoopDelayMs: round(loop.p99Ms, 1),
      };
      log(
        `${label} ${fmt(streams)} streams resumed from an id a minute old: all open in ${result.openSeconds} s ` +
          `(${fmt(result.refusedOpens)} times told to retry later), all live in ${result.liveSeconds} s, ` +
          `${fmt(result.replayedEvents)} events replayed, worst event-loop delay ${result.maxEventLoopDelayMs} ms`,
      );
      return result;
    } finally {
      await closeLoad();
      await stopGateway();
    }
  } finally {
    await disconnect();
  }
}

/** The gateway's own position type, from its build, to write cursors as it does. */
async function gatewayLogPosition() {
  /** @type {unknown} */
  const module = await import(pathToFileURL(join(projectRoot, 'dist', 'log', 'log-position.js')).href);
  return /** @type {typeof import('../src/log/log-position.js')} */ (module).LogPosition;
}

/**
 * Counters of the gateway's /metrics that the storm reads.
 * @param {string} url
 */
async function gatewayCounters(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (/** @type {string} */ name) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  return {
    replays: value('sse_replays_total'),
    replayedEvents: value('sse_replayed_events_total'),
    resets: value('sse_resets_total'),
  };
}

/**
 * What formatting a cursor costs in the gateway's own code (dist), for 3 and for many partitions.
 */
async function cursorCost() {
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

/**
 * The consume floor: a plain kafkajs consumer, own group, from the beginning of the bench topic,
 * counting records (no parsing) until it reaches the end offsets taken at its start.
 * @param {string[]} brokers
 * @param {'eachMessage' | 'eachBatch'} mode
 */
async function consumeFloor(brokers, mode) {
  const kafka = new Kafka({ brokers, clientId: 'bench-consume-floor', logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(params.topic).finally(() => admin.disconnect());
  const total = offsets.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0);
  const consumer = kafka.consumer({
    groupId: `bench-consume-floor.${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 1000,
  });
  const disconnect = onCleanup(`${mode} consumer`, () => consumer.disconnect());
  let count = 0;
  let firstCount = 0;
  /** @type {number | undefined} */
  let first;
  let last = 0;
  /** @param {number} n */
  const took = (n) => {
    const now = monotonicMs();
    if (first === undefined) {
      first = now;
      firstCount = n;
    }
    count += n;
    last = now;
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: params.topic, fromBeginning: true });
    await consumer.run(
      mode === 'eachMessage'
        ? { autoCommit: false, eachMessage: () => Promise.resolve(took(1)) }
        : { autoCommit: false, eachBatch: ({ batch }) => Promise.resolve(took(batch.messages.length)) },
    );
    const deadline = monotonicMs() + 120_000;
    let lastLine = monotonicMs();
    while (count < total) {
      if (monotonicMs() > deadline)
        throw new Error(`the ${mode} consumer read ${count} of ${total} records in 120 s`);
      if (monotonicMs() - lastLine >= 1000) {
        lastLine = monotonicMs();
        log(`[kafka consume floor] ${mode}: ${fmt(count)} of ${fmt(total)} records`);
      }
      await sleep(10);
    }
  } finally {
    await disconnect();
  }
  const seconds = Math.max(1e-3, (last - (first ?? last)) / 1000);
  const result = {
    mode,
    records: count,
    seconds: round(seconds, 3),
    recordsPerSecond: round((count - firstCount) / seconds, 1),
  };
  log(`[kafka consume floor] ${mode}: ${fmt(result.recordsPerSecond)} records/s over ${fmt(count)} records`);
  return result;
}

/**
 * The same consume floor with @platformatic/kafka, the maintained pure-JS client that installs
 * here (v1 on Node 20; v2 needs Node 22.22), to inform the choice of client: records/s, no parsing.
 * @param {string[]} brokers
 */
async function platformaticFloor(brokers) {
  const { Consumer } = await import('@platformatic/kafka');
  const kafka = new Kafka({ brokers, clientId: 'bench-consume-floor', logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(params.topic).finally(() => admin.disconnect());
  const total = offsets.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0);
  const consumer = new Consumer({
    groupId: `bench-consume-floor.${randomBytes(4).toString('hex')}`,
    clientId: 'bench-consume-floor',
    bootstrapBrokers: brokers,
  });
  /** @type {{ close(): Promise<void> } | undefined} */
  let messages;
  const close = onCleanup('@platformatic/kafka consumer', async () => {
    // Its stream first: the consumer refuses to leave its group while one consumes.
    await messages?.close();
    await consumer.close();
  });
  let count = 0;
  /** @type {number | undefined} */
  let first;
  let last = 0;
  try {
    const stream = await consumer.consume({ topics: [params.topic], mode: 'earliest', autocommit: false });
    messages = stream;
    /** @type {unknown} */
    let failure;
    stream.on('error', (/** @type {unknown} */ err) => (failure = err));
    stream.on('data', () => {
      const now = monotonicMs();
      first ??= now;
      count++;
      last = now;
    });
    const deadline = monotonicMs() + 180_000;
    let lastLine = monotonicMs();
    while (count < total) {
      if (failure) throw failure instanceof Error ? failure : new Error('the consumer stream failed');
      if (monotonicMs() > deadline) throw new Error(`it read ${count} of ${total} records in 180 s`);
      if (monotonicMs() - lastLine >= 1000) {
        lastLine = monotonicMs();
        log(`[kafka consume floor] @platformatic/kafka: ${fmt(count)} of ${fmt(total)} records`);
      }
      await sleep(10);
    }
  } finally {
    await close();
  }
  const seconds = Math.max(1e-3, (last - (first ?? last)) / 1000);
  const result = {
    mode: 'platformatic',
    records: count,
    seconds: round(seconds, 3),
    recordsPerSecond: round(count / seconds, 1),
  };
  log(
    `[kafka consume floor] @platformatic/kafka: ${fmt(result.recordsPerSecond)} records/s over ${fmt(count)} records`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------
// Run

function gitInfo() {
  const git = (/** @type {string[]} */ args) =>
    execFileSync('git', args, {
      cwd: projectRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    return {
      revision: git(['rev-parse', '--short', 'HEAD']),
      dirty: git(['status', '--porcelain']).length > 0,
    };
  } catch {
    return { revision: 'unknown', dirty: false };
  }
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
  };
}

/** @param {number} a @param {number} b */
function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? round(a / b, 3) : null;
}

/**
 * Gateway ÷ floor for every figure the two have in common.
 * @param {object | undefined} gateway
 * @param {object | undefined} raw
 * @param {{ recordsPerSecond: number }} consume
 */
function ratios(gateway, raw, consume) {
  /** @type {Record<string, number | null>} */
  const out = {};
  const figures = {
    idle: ['rssPerStreamBytes', 'heapPerStreamBytes', 'connectsPerSecond'],
    targeted: [
      'deliveriesPerSecond',
      'targetCpuMicrosPerDelivery',
      'latency.p50Ms',
      'latency.p99Ms',
      'latency.maxMs',
    ],
    broadcast: [
      'deliveriesPerSecond',
      'targetCpuMicrosPerDelivery',
      'latency.p50Ms',
      'latency.p99Ms',
      'latency.maxMs',
    ],
    fanout: ['latency.p50Ms', 'latency.p99Ms', 'latency.maxMs', 'targetCpuMicrosPerDelivery'],
    steady: [
      'deliveriesPerSecond',
      'targetCpuMicrosPerDelivery',
      'latency.p50Ms',
      'latency.p99Ms',
      'latency.maxMs',
    ],
    steadyModerate: [
      'deliveriesPerSecond',
      'targetCpuMicrosPerDelivery',
      'latency.p50Ms',
      'latency.p99Ms',
      'latency.maxMs',
    ],
  };
  const numberAt = (/** @type {unknown} */ object, /** @type {string} */ path) => {
    const value = get(object, path);
    return typeof value === 'number' ? value : NaN;
  };
  if (gateway && raw) {
    for (const [scenario, names] of Object.entries(figures)) {
      for (const name of names) {
        out[`${scenario}.${name}`] = ratio(
          numberAt(gateway, `${scenario}.${name}`),
          numberAt(raw, `${scenario}.${name}`),
        );
      }
    }
  }
  if (gateway) {
    out['targeted.eventsPerSecond/kafkaConsume'] = ratio(
      numberAt(gateway, 'targeted.eventsPerSecond'),
      consume.recordsPerSecond,
    );
  }
  return out;
}

async function main() {
  mkdirSync(workDir, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  log(
    `${params.mode} run: ${fmt(streams)} streams over ${params.clients} load clients, ${durationS} s per scenario, ` +
      `targets ${params.targets.join(' then ')}; logs in ${workDir}`,
  );
  const git = gitInfo();
  /** @type {string[]} */
  let brokers = splitList(env.KAFKA_BROKERS);
  const embedded = brokers.length === 0;
  if (embedded) {
    log(`starting the embedded Kafka ${KAFKA_VERSION}`);
    const kafka = await EmbeddedKafka.start();
    onCleanup('embedded Kafka', () => kafka.stop());
    brokers = kafka.brokers;
  }
  kafkaPid = findKafkaPid();
  log(`Kafka at ${brokers.join(',')}; topic ${params.topic} with ${params.partitions} partitions`);
  await ensureTopics(brokers, [params.topic], params.partitions);
  if (!embedded && !env.BENCH_TOPIC) {
    onCleanup('bench topic', async () => {
      const admin = new Kafka({ brokers, clientId: 'bench-setup', logLevel: logLevel.WARN }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [params.topic] }).finally(() => admin.disconnect());
    });
  }
  const producer = new BenchProducer(brokers, params.topic);
  await producer.connect();
  const disconnectProducer = onCleanup('producer', () => producer.disconnect());

  /** @type {Record<string, Awaited<ReturnType<typeof runTarget>>>} */
  const targets = {};
  /** @type {{ brokers: string[], producer: BenchProducer, moderateRate?: number }} */
  const shared = { brokers, producer };
  for (const kind of /** @type {Array<'gateway' | 'raw'>} */ (params.targets)) {
    targets[kind] = await runTarget(kind, shared);
  }
  let nestIdle = null;
  if (params.nestFloor && params.targets.includes('gateway')) {
    const { idle, stop } = await startTarget('nest', { ...shared, topic: params.topic, name: '' });
    await stop();
    nestIdle = idle;
  }
  await disconnectProducer();

  /** @type {Record<string, Awaited<ReturnType<typeof runWide>>>} */
  const wide = {};
  if (params.widePartitions > 0) {
    const topic = `${params.topic}-wide`;
    await ensureTopics(brokers, [topic], params.widePartitions);
    const wideProducer = new BenchProducer(brokers, topic);
    await wideProducer.connect();
    const disconnectWide = onCleanup('wide producer', () => wideProducer.disconnect());
    for (const kind of /** @type {Array<'gateway' | 'raw'>} */ (params.targets)) {
      wide[kind] = await runWide(kind, { brokers, producer: wideProducer, topic });
    }
    await disconnectWide();
  }
  let storm = null;
  if (params.stormRate > 0 && params.targets.includes('gateway')) {
    const topic = `${params.topic}-storm`;
    await ensureTopics(brokers, [topic], params.partitions);
    storm = await runStorm({ brokers, topic });
  }
  const cursor = await cursorCost();
  const kafkaConsume = await consumeFloor(brokers, 'eachMessage');
  const kafkaConsumeBatch = await consumeFloor(brokers, 'eachBatch');
  const platformatic = await platformaticFloor(brokers).catch((/** @type {unknown} */ err) => {
    log(`[kafka consume floor] @platformatic/kafka: not measured (${String(err)})`);
    return null;
  });

  const finishedAt = new Date();
  const results = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: round((monotonicMs() - started) / 1000, 1),
    machine: machineInfo(),
    node: process.version,
    git,
    params: { ...params, resultsDir: relative(projectRoot, resultsDir) || '.' },
    kafka: {
      embedded,
      version: embedded ? KAFKA_VERSION : 'external',
      topic: params.topic,
      partitions: params.partitions,
    },
    gateway: targets.gateway ?? null,
    floors: {
      kafkaConsume: { ...kafkaConsume, eachBatch: kafkaConsumeBatch, platformatic },
      rawSse: targets.raw ?? null,
      nestSse: nestIdle && { idle: nestIdle },
    },
    wide: { gateway: wide.gateway ?? null, raw: wide.raw ?? null, cursor },
    storm,
    ratios: ratios(targets.gateway, targets.raw, kafkaConsumeBatch),
    workDir,
  };
  const jsonFile = join(resultsDir, `${stamp}.json`);
  const markdown = markdownReport(results);
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(resultsDir, `${stamp}.md`), markdown);
  writeFileSync(join(resultsDir, 'latest.md'), markdown);
  console.log(`\n${markdown}`);
  log(`results: ${jsonFile} (and .md, latest.md)`);
}

main()
  .then(async () => {
    clearTimeout(watchdog);
    await cleanUp();
    log('done');
    process.exit(0);
  })
  .catch((/** @type {unknown} */ err) => {
    clearTimeout(watchdog);
    console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    abort('failed', 1);
  });
