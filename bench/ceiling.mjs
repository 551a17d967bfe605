// @ts-check
/**
 * `npm run bench:ceiling`: the cluster's ceiling while every instance reads every record. For 1, 2
 * and 3 gateway instances (`node dist/main.js`, each its own consumer group, as in production) on
 * one Kafka, each holding its share of BENCH_STREAMS streams, it searches the highest event rate
 * the cluster sustains without falling behind, for targeted events, a mix with a few broadcasts,
 * and broadcasts. See bench/README.md ("The ceiling") for what is measured and the knobs.
 *
 * A step offers a fixed rate for BENCH_CEILING_STEP_S; it fails ("falls behind") when delivery
 * lags the offered load by more than BENCH_CEILING_MAX_LAG_S of deliveries, or by more than one
 * second of them when production ends — the test steadyScenario in run.mjs uses for saturation.
 * The rate doubles (or halves) until one step passes and one fails, then is bisected.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
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
import { BenchProducer, broadcastRecord, targetedRecord } from './producer.mjs';
import { LatencyHistogram, monotonicMs } from './stats.mjs';

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

/** The mixes, by name: share of broadcasts in percent and the rate the first search starts at. */
const MIXES = {
  targeted: { broadcastPercent: 0, startRate: 8000 },
  mixed: { broadcastPercent: numberEnv('BENCH_CEILING_MIXED_BROADCAST_PCT', 0.1, 0, 100), startRate: 4000 },
  broadcast: { broadcastPercent: 100, startRate: 16 },
};
/** @typedef {keyof typeof MIXES} MixName */

const streams = Math.round(numberEnv('BENCH_STREAMS', smoke ? 300 : 10_000, 1, 19_000));
const params = {
  mode: smoke ? 'smoke' : 'full',
  streams,
  instances: splitList(env.BENCH_CEILING_INSTANCES ?? '1,2,3').map((n) => {
    const count = Number(n);
    if (!Number.isInteger(count) || count < 1 || count > 20)
      throw new Error(`BENCH_CEILING_INSTANCES: ${n} is not a count from 1 to 20`);
    return count;
  }),
  mixes: /** @type {MixName[]} */ (
    splitList(env.BENCH_CEILING_MIXES ?? 'targeted,mixed,broadcast').map((name) => {
      if (!(name in MIXES)) throw new Error(`BENCH_CEILING_MIXES: unknown mix ${name}`);
      return name;
    })
  ),
  mixedBroadcastPercent: MIXES.mixed.broadcastPercent,
  stepS: numberEnv('BENCH_CEILING_STEP_S', smoke ? 3 : 10, 1, 600),
  maxLagS: numberEnv('BENCH_CEILING_MAX_LAG_S', smoke ? 2 : 3, 0.5, 600),
  /** The search stops once the failing rate is within this fraction above the passing one. */
  resolution: numberEnv('BENCH_CEILING_RESOLUTION', smoke ? 0.5 : 0.1, 0.01, 10),
  /** Quiet time after the warm-up in which each gateway's idle CPU is measured, to subtract it. */
  idleS: numberEnv('BENCH_CEILING_IDLE_S', smoke ? 2 : 5, 0.5, 600),
  maxSteps: Math.round(numberEnv('BENCH_CEILING_MAX_STEPS', smoke ? 6 : 12, 2, 100)),
  streamsPerClient: Math.round(numberEnv('BENCH_STREAMS_PER_CLIENT', 5000, 1, 15_000)),
  connectConcurrency: Math.round(numberEnv('BENCH_CONNECT_CONCURRENCY', 32, 1, 5000)),
  partitions: Math.round(numberEnv('BENCH_PARTITIONS', 3, 1, 1000)),
  heartbeatMs: 15_000,
  replayMaxBytes: Math.round(numberEnv('BENCH_REPLAY_MAX_BYTES', 64 * 1024 ** 2, 0)),
  nodeOptions: nodeFlagsOr(env.BENCH_NODE_OPTIONS),
  timeoutS: numberEnv('BENCH_TIMEOUT_S', smoke ? 400 : 5400, 10),
  topicPrefix: `ceiling-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(2).toString('hex')}`,
};
const resultsDir = resolve(env.BENCH_RESULTS_DIR ?? join(benchDir, 'results'));
const stamp = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replace(/:/g, '-');
const workDir = resolve(
  env.BENCH_WORK_DIR ?? join(os.tmpdir(), `kafka-sse-gateway-ceiling-${stamp}-${process.pid}`),
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
  console.log(`[ceiling ${clock}] ${line}`);
}
const fmt = (/** @type {number} */ n) =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
/** @param {number} value @param {number} digits */
const round = (value, digits) => Math.round(value * 10 ** digits) / 10 ** digits;

/** @type {Array<() => Promise<unknown>>} */
const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    const run = /** @type {() => Promise<unknown>} */ (cleanups.pop());
    await Promise.race([
      run().catch((/** @type {unknown} */ err) => log(`clean-up failed: ${String(err)}`)),
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
  console.error(`[ceiling] ${reason}; stopping everything`);
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
// A cluster: N gateways, each with the load clients holding its share of the streams

/**
 * @typedef {{ gateways: TargetProcess[], loads: Load[], producer: BenchProducer, instances: number,
 *   idleCpuCores: number[] }} Cluster
 */

/** Streams of instance `index` of `count`: an even split of u0 … u(streams − 1). @param {number} index @param {number} count */
function shareOf(index, count) {
  const from = Math.floor((index * streams) / count);
  return { from, count: Math.floor(((index + 1) * streams) / count) - from };
}

/**
 * @param {number} instances
 * @param {string[]} brokers
 * @param {string} topic
 * @returns {Promise<Cluster>}
 */
async function startCluster(instances, brokers, topic) {
  const script = join(projectRoot, 'dist', 'main.js');
  if (!existsSync(script))
    throw new Error(`${script} is missing: run \`npm run build\` first (npm run bench:ceiling does)`);
  /** @type {Cluster} */
  const cluster = {
    gateways: [],
    loads: [],
    producer: new BenchProducer(brokers, topic),
    instances,
    idleCpuCores: [],
  };
  cleanups.push(() => stopCluster(cluster));
  await cluster.producer.connect();
  for (let index = 0; index < instances; index++) {
    // The same environment as run.mjs gives its gateway: only the port differs (PORT=0 each).
    const gateway = await TargetProcess.start({
      name: `gateway ${index + 1} of ${instances}`,
      script,
      nodeArgs: params.nodeOptions,
      env: {
        PATH: env.PATH ?? '',
        NO_COLOR: '1',
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_PREFIX: 'bench',
        JWT_SECRET: secret,
        JWT_AUDIENCE: BENCH_AUDIENCE,
        HOST: '127.0.0.1',
        PORT: '0',
        SSE_HEARTBEAT_MS: String(params.heartbeatMs),
        SSE_MAX_LIFETIME_MS: String(24 * 3600_000),
        REPLAY_MAX_BYTES: String(params.replayMaxBytes),
      },
      logFile: join(workDir, `gateway-n${instances}-${index + 1}.log`),
      startTimeoutMs: 90_000,
    });
    cluster.gateways.push(gateway);
    log(`[n=${instances}] gateway ${index + 1} up at ${gateway.url} (pid ${gateway.pid})`);
  }
  let sourceHost = 2;
  for (const [index, gateway] of cluster.gateways.entries()) {
    const share = shareOf(index, instances);
    const clients = Math.max(1, Math.ceil(share.count / params.streamsPerClient));
    const load = new Load({
      streams: share.count,
      clients,
      concurrency: params.connectConcurrency,
      secret,
      tokenTtlSeconds: Math.max(3600, params.timeoutS * 2),
      firstUser: share.from,
      firstSourceHost: sourceHost,
    });
    sourceHost += clients;
    cluster.loads.push(load);
    await load.open(new URL('/events', gateway.url), Math.max(60_000, share.count * 20), (p) =>
      log(`[n=${instances}] gateway ${index + 1}: ${fmt(p.opened)} of ${fmt(share.count)} streams open`),
    );
  }
  log(`[n=${instances}] ${fmt(streams)} streams open over ${instances} instance(s)`);
  await warmUp(cluster);
  // What each gateway spends with nothing to deliver (fetch loop, timers, heartbeats): at low
  // rates it would otherwise dominate the per-event cost.
  const before = cluster.gateways.map((gateway) => gateway.cpuSeconds());
  const t0 = monotonicMs();
  await sleep(params.idleS * 1000);
  const wall = (monotonicMs() - t0) / 1000;
  cluster.idleCpuCores = cluster.gateways.map(
    (gateway, i) => (gateway.cpuSeconds() - (before[i] ?? 0)) / wall,
  );
  log(
    `[n=${instances}] idle CPU per gateway: ${cluster.idleCpuCores.map((c) => `${round(c * 100, 1)}%`).join(', ')}`,
  );
  return cluster;
}

/** @param {Cluster} cluster */
async function stopCluster(cluster) {
  await Promise.all(cluster.loads.map((load) => load.close()));
  await Promise.all(cluster.gateways.map((gateway) => gateway.stop()));
  await cluster.producer.disconnect().catch(() => undefined);
  cluster.loads = [];
  cluster.gateways = [];
}

/** @param {Cluster} cluster */
function delivered(cluster) {
  return cluster.loads.reduce((sum, load) => sum + load.progress.delivered, 0);
}

/** @param {Cluster} cluster */
function closedByServer(cluster) {
  return cluster.loads.reduce((sum, load) => sum + load.progress.closed, 0);
}

/** @param {Cluster} cluster @param {string} eventType */
async function expectType(cluster, eventType) {
  await Promise.all(cluster.loads.map((load) => load.expect(eventType)));
}

/**
 * Waits until `expected` deliveries arrived; false when nothing arrives for `idleMs` or at `hardMs`.
 * @param {Cluster} cluster @param {number} expected @param {{ idleMs: number, hardMs: number }} limits
 */
async function drain(cluster, expected, { idleMs, hardMs }) {
  const start = monotonicMs();
  let last = -1;
  let lastChange = start;
  for (;;) {
    if (exiting) throw new Error('stopping');
    const now = monotonicMs();
    const count = delivered(cluster);
    if (count >= expected) return true;
    if (count !== last) {
      last = count;
      lastChange = now;
    }
    if (now - lastChange > idleMs || now - start > hardMs) return false;
    await sleep(20);
  }
}

/** One broadcast and a round of targeted events, all awaited: every stream is subscribed. @param {Cluster} cluster */
async function warmUp(cluster) {
  await expectType(cluster, 'bench.warm');
  const targeted = Math.min(streams, 2000);
  const records = [broadcastRecord('bench.warm', 0)];
  for (let i = 0; i < targeted; i++) records.push(targetedRecord('bench.warm', i + 1, i));
  await cluster.producer.send(records);
  if (!(await drain(cluster, streams + targeted, { idleMs: 15_000, hardMs: 60_000 })))
    throw new Error(`[n=${cluster.instances}] warm-up events did not reach every stream`);
}

// ---------------------------------------------------------------------------------------------
// One step: a fixed rate for stepS

let stepNumber = 0;

/**
 * @param {Cluster} cluster
 * @param {MixName} mix
 * @param {number} rate events/s offered
 */
async function step(cluster, mix, rate) {
  const percent = MIXES[mix].broadcastPercent;
  const eventType = `bench.ceiling${++stepNumber}`;
  await expectType(cluster, eventType);
  const offeredDeliveriesPerSecond = rate * (1 - percent / 100) + rate * (percent / 100) * streams;
  const maxBehind = Math.max(2 * streams, offeredDeliveriesPerSecond * params.maxLagS);
  const closedBefore = closedByServer(cluster);
  const cpuBefore = cluster.gateways.map((gateway) => gateway.cpuSeconds());
  const othersBefore = otherProcessesCpu(cluster);
  const machineBefore = machineCpu();
  const t0 = monotonicMs();
  const end = t0 + params.stepS * 1000;
  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  /** @type {Error | undefined} */
  let sendError;
  let produced = 0;
  let expected = 0;
  let maxSeenBehind = 0;
  /** @type {string | undefined} */
  let fellBehind;
  for (let now = t0; now < end; now = monotonicMs()) {
    if (sendError) throw sendError;
    if (exiting) throw new Error('stopping');
    const behind = expected - delivered(cluster);
    maxSeenBehind = Math.max(maxSeenBehind, behind);
    if (behind > maxBehind) {
      fellBehind = `more than ${params.maxLagS} s of deliveries behind after ${((now - t0) / 1000).toFixed(1)} s`;
      break;
    }
    const due = Math.floor(((now - t0) / 1000) * rate) - produced;
    if (due > 0 && inFlight.size < 8) {
      const records = [];
      for (let i = 0; i < due; i++) {
        const seq = produced + i;
        // Broadcasts spread evenly, as in run.mjs: seq is one when floor(seq·p/100) steps up.
        if (Math.floor(((seq + 1) * percent) / 100) > Math.floor((seq * percent) / 100)) {
          expected += streams;
          records.push(broadcastRecord(eventType, seq));
        } else {
          expected += 1;
          records.push(targetedRecord(eventType, seq, seq % streams));
        }
      }
      produced += due;
      const sending = cluster.producer
        .send(records)
        .catch(
          (/** @type {unknown} */ err) =>
            void (sendError = err instanceof Error ? err : new Error('send failed')),
        );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    }
    await sleep(5);
  }
  await Promise.all(inFlight);
  const producedFor = (monotonicMs() - t0) / 1000;
  const behindAtEnd = expected - delivered(cluster);
  if (!fellBehind && behindAtEnd > Math.max(2 * streams, offeredDeliveriesPerSecond)) {
    fellBehind = `${fmt(behindAtEnd)} deliveries (over 1 s of them) behind when production ended`;
  }
  // A step that fell behind is drained too (bounded), so the next one starts from an empty queue.
  const complete = await drain(
    cluster,
    expected,
    fellBehind ? { idleMs: 5000, hardMs: 60_000 } : { idleMs: 10_000, hardMs: 120_000 },
  );
  const wall = (monotonicMs() - t0) / 1000;
  const cpu = cluster.gateways.map((gateway, i) => gateway.cpuSeconds() - (cpuBefore[i] ?? 0));
  const othersAfter = otherProcessesCpu(cluster);
  const machineAfter = machineCpu();
  const histogram = new LatencyHistogram();
  let deliveries = 0;
  for (const load of cluster.loads) {
    const stats = await load.stats();
    histogram.add(stats.histogram.toSparse());
    deliveries += stats.delivered;
  }
  const totalCpu = cpu.reduce((sum, value) => sum + value, 0);
  const idleCpu = cluster.idleCpuCores.reduce((sum, value) => sum + value, 0) * wall;
  const workCpu = Math.max(0, totalCpu - idleCpu);
  const percentOfCore = (/** @type {number} */ seconds) => round((seconds / wall) * 100, 1);
  const machineBusy = (machineAfter.busy - machineBefore.busy) / CLOCK_TICKS;
  const known =
    totalCpu +
    (othersAfter.kafka - othersBefore.kafka || 0) +
    (othersAfter.load - othersBefore.load) +
    (othersAfter.harness - othersBefore.harness);
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
    gatewayCpuPercent: cpu.map((seconds) => round((seconds / wall) * 100, 1)),
    /**
     * CPU of all gateways together per event produced, above their idle CPU: N × the per-record
     * cost + the cost of the event's deliveries.
     */
    clusterCpuMicrosPerEvent: produced > 0 ? round((workCpu * 1e6) / produced, 2) : NaN,
    clusterCpuMicrosPerDelivery: deliveries > 0 ? round((workCpu * 1e6) / deliveries, 3) : NaN,
    /** The same including idle CPU. */
    clusterCpuMicrosPerEventWithIdle: produced > 0 ? round((totalCpu * 1e6) / produced, 2) : NaN,
    /** Of all cores: 100% means every core was busy. */
    machineCpuPercent: round(
      ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100,
      1,
    ),
    kafkaCpuPercent: percentOfCore(othersAfter.kafka - othersBefore.kafka),
    loadClientsCpuPercent: percentOfCore(othersAfter.load - othersBefore.load),
    harnessCpuPercent: percentOfCore(othersAfter.harness - othersBefore.harness),
    /**
     * Busy CPU of the machine beyond the gateways, Kafka, the load clients and this harness
     * (100% = one core): the kernel's loopback work and any other process. Above 60% the step
     * was probably disturbed by someone else's work.
     */
    otherCpuPercent: percentOfCore(Math.max(0, machineBusy - known)),
  };
  log(
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

/** The Kafka broker's process, when it can be found (see findKafkaPid). */
/** @type {number | undefined} */
let kafkaPid;

/** Clock ticks per second of /proc/stat; 100 on every Linux Node runs on. */
const CLOCK_TICKS = 100;

/**
 * CPU seconds used so far by the Kafka broker, the load clients and this harness (which produces).
 * @param {Cluster} cluster
 */
function otherProcessesCpu(cluster) {
  const seconds = (/** @type {number | undefined} */ pid) => {
    try {
      return pid === undefined ? NaN : cpuSecondsOf(pid);
    } catch {
      return NaN;
    }
  };
  const harness = process.cpuUsage();
  let load = 0;
  for (const client of cluster.loads.flatMap((l) => l.clients)) load += seconds(client.child.pid) || 0;
  return { kafka: seconds(kafkaPid), load, harness: (harness.user + harness.system) / 1e6 };
}

function machineCpu() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy, total: busy + idle + iowait + steal };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

// ---------------------------------------------------------------------------------------------
// The search

/**
 * Doubles or halves the rate until one step passes and one fails, then bisects (geometrically)
 * until the failing rate is within `resolution` of the passing one.
 * @param {Cluster} cluster @param {MixName} mix @param {number} startRate
 */
async function findCeiling(cluster, mix, startRate) {
  /** @type {Array<Awaited<ReturnType<typeof step>>>} */
  const steps = [];
  /** @type {number | undefined} */
  let passing;
  /** @type {number | undefined} */
  let failing;
  let rate = startRate;
  while (steps.length < params.maxSteps) {
    const result = await step(cluster, mix, rate);
    steps.push(result);
    if (result.sustained) passing = Math.max(passing ?? 0, rate);
    else failing = Math.min(failing ?? Infinity, rate);
    if (passing !== undefined && failing !== undefined && failing / passing <= 1 + params.resolution) break;
    if (failing === undefined) rate *= 2;
    else if (passing === undefined) rate /= 2;
    else rate = Math.sqrt(passing * failing);
    // A broadcast every few seconds is as low as a rate goes; below, the search is pointless.
    if (rate < 0.5) break;
  }
  const best = steps
    .filter((s) => s.sustained)
    .sort((a, b) => b.offeredEventsPerSecond - a.offeredEventsPerSecond)[0];
  return {
    mix,
    broadcastPercent: MIXES[mix].broadcastPercent,
    /** The highest rate sustained; undefined when even the lowest step fell behind. */
    ceilingEventsPerSecond: passing ?? null,
    /** The lowest rate that fell behind; undefined when no step did (raise BENCH_CEILING_MAX_STEPS). */
    firstFailingEventsPerSecond: failing ?? null,
    atCeiling: best ?? null,
    steps,
  };
}

/**
 * Cluster CPU per event at the ceiling is N·r + k·d, with r the cost of reading and routing a
 * record (paid by every instance) and d the cost of one delivery (k deliveries per event). A
 * least-squares line through the instance counts gives r (slope) and k·d (intercept).
 * @param {Array<{ instances: number, micros: number }>} points
 * @param {number} deliveriesPerEvent k
 */
function fitPerRecord(points, deliveriesPerEvent) {
  const usable = points.filter((p) => Number.isFinite(p.micros));
  if (usable.length < 2) return null;
  const n = usable.length;
  const mx = usable.reduce((s, p) => s + p.instances, 0) / n;
  const my = usable.reduce((s, p) => s + p.micros, 0) / n;
  const sxx = usable.reduce((s, p) => s + (p.instances - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = usable.reduce((s, p) => s + (p.instances - mx) * (p.micros - my), 0) / sxx;
  const intercept = my - slope * mx;
  return {
    perRecordMicros: round(slope, 2),
    perEventDeliveryMicros: round(intercept, 2),
    perDeliveryMicros: round(intercept / deliveriesPerEvent, 3),
    points: usable,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

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

/**
 * @typedef {Awaited<ReturnType<typeof findCeiling>>} Ceiling
 * @typedef {{ startedAt: string, wallSeconds: number, machine: ReturnType<typeof machineInfo>, node: string,
 *   git: ReturnType<typeof gitInfo>, params: typeof params, kafka: { version: string },
 *   runs: Array<{ instances: number, mixes: Partial<Record<MixName, Ceiling>> }>,
 *   fit: Record<string, ReturnType<typeof fitPerRecord>> }} Results
 */

/**
 * @param {Results} results
 * @returns {string}
 */
function markdown(results) {
  const num = (/** @type {unknown} */ v, digits = 0) =>
    typeof v === 'number' && Number.isFinite(v)
      ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
      : '–';
  const lines = [
    `# kafka-sse-gateway ceiling, ${results.startedAt}`,
    '',
    `${results.params.mode} run · ${num(results.params.streams)} streams split over the instances · ` +
      `${results.params.stepS} s steps · falls behind at ${results.params.maxLagS} s of deliveries · ` +
      `topic of ${results.params.partitions} partitions · Kafka ${results.kafka.version}`,
    `git ${results.git.revision}${results.git.dirty ? ' (dirty)' : ''} · Node ${results.node} · ` +
      `${results.machine.cpus} × ${results.machine.cpuModel} · ${num(results.machine.totalMemoryBytes / 2 ** 30, 1)} GiB · ` +
      `run took ${num(results.wallSeconds)} s`,
    '',
    `**Every instance shares the same ${results.machine.cpus} cores** (and with Kafka, the producer and the load ` +
      'clients): more instances here add no CPU. What the table shows is what each record costs the ' +
      'cluster: with every instance reading every record, cluster CPU per event grows with the instance ' +
      'count, so the event rate the cluster sustains stays flat or falls while the connections it holds grow.',
    '',
    '| mix | instances | streams per instance | ceiling events/s | deliveries/s | gateway CPU at ceiling (each, 100% = one core) | cluster CPU per event (above idle) | p99 at ceiling | machine CPU (100% = all cores) | other CPU (100% = one core) | first rate that fell behind |',
    '|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|',
  ];
  for (const mix of results.params.mixes) {
    for (const run of results.runs) {
      const found = run.mixes[mix];
      if (!found) continue;
      const at = found.atCeiling;
      lines.push(
        `| ${mix}${found.broadcastPercent > 0 && found.broadcastPercent < 100 ? ` (${found.broadcastPercent}% broadcast)` : ''} | ${run.instances} | ${num(results.params.streams / run.instances)} | ` +
          `${num(found.ceilingEventsPerSecond)} | ${num(at ? at.deliveries / at.seconds : NaN)} | ` +
          `${at ? at.gatewayCpuPercent.map((p) => `${num(p)}%`).join(' · ') : '–'} | ` +
          `${at ? `${num(at.clusterCpuMicrosPerEvent, 1)} µs` : '–'} | ${at ? `${num(at.latency.p99Ms)} ms` : '–'} | ` +
          `${at ? `${num(at.machineCpuPercent)}%` : '–'} | ${at ? `${num(at.otherCpuPercent)}%${at.otherCpuPercent > 60 ? ' (disturbed?)' : ''}` : '–'} | ` +
          `${num(found.firstFailingEventsPerSecond)} |`,
      );
    }
  }
  lines.push('');
  const fits = /** @type {Array<[string, NonNullable<ReturnType<typeof fitPerRecord>>]>} */ (
    Object.entries(results.fit).filter(([, fit]) => fit)
  );
  if (fits.length > 0) {
    lines.push(
      'Cost per record read by every instance (slope of cluster CPU per event over the instance count) and per event delivered (intercept):',
      '',
    );
    for (const [mix, fit] of fits) {
      lines.push(
        `- ${mix}: ${num(fit.perRecordMicros, 1)} µs per record per instance; ${num(fit.perEventDeliveryMicros, 1)} µs to deliver one event (${num(fit.perDeliveryMicros, 2)} µs per delivery)`,
      );
    }
    lines.push('');
  }
  lines.push(
    'Ceiling: the highest offered rate whose step kept delivery within the lag bound and ended less than a second of deliveries behind. ' +
      'Deliveries/s and CPU are over the step including its drain; cluster CPU per event leaves out what the gateways spend idle ' +
      "(measured before the steps). Other CPU: the machine's busy time beyond the gateways, Kafka, the load clients and the harness. " +
      'See bench/README.md ("The ceiling").',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Run

async function main() {
  mkdirSync(workDir, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  log(
    `${params.mode} run: ${fmt(streams)} streams, instances ${params.instances.join(', ')}, mixes ${params.mixes.join(', ')}, ` +
      `${params.stepS} s steps; logs in ${workDir}`,
  );
  const git = gitInfo();
  let brokers = splitList(env.KAFKA_BROKERS);
  const embedded = brokers.length === 0;
  if (embedded) {
    log(`starting the embedded Kafka ${KAFKA_VERSION}`);
    const kafka = await EmbeddedKafka.start();
    cleanups.push(() => kafka.stop());
    brokers = kafka.brokers;
  }
  kafkaPid = findKafkaPid();

  const runs = [];
  /** @type {Partial<Record<MixName, number>>} */
  const lastCeiling = {};
  for (const instances of params.instances) {
    // A topic per instance count: a new gateway warms up from the last REPLAY_WINDOW_MS of its
    // topic, and the records of earlier runs would only slow that down.
    const topic = `${params.topicPrefix}-n${instances}`;
    await ensureTopics(brokers, [topic], params.partitions);
    log(`[n=${instances}] topic ${topic}; starting ${instances} gateway(s)`);
    const cluster = await startCluster(instances, brokers, topic);
    /** @type {Partial<Record<MixName, Awaited<ReturnType<typeof findCeiling>>>>} */
    const mixes = {};
    try {
      for (const mix of params.mixes) {
        // The previous instance count's ceiling is the best first guess for this one.
        mixes[mix] = await findCeiling(cluster, mix, lastCeiling[mix] ?? MIXES[mix].startRate);
        const ceiling = mixes[mix]?.ceilingEventsPerSecond;
        if (ceiling) lastCeiling[mix] = ceiling;
        log(`[n=${instances}] ${mix}: ceiling ${fmt(ceiling ?? NaN)} events/s`);
      }
    } finally {
      await stopCluster(cluster);
    }
    runs.push({ instances, topic, mixes });
  }

  /** @type {Record<string, ReturnType<typeof fitPerRecord>>} */
  const fit = {};
  for (const mix of params.mixes) {
    fit[mix] = fitPerRecord(
      runs.map((run) => ({
        instances: run.instances,
        micros: run.mixes[mix]?.atCeiling?.clusterCpuMicrosPerEvent ?? NaN,
      })),
      1 - MIXES[mix].broadcastPercent / 100 + (MIXES[mix].broadcastPercent / 100) * streams,
    );
  }
  const results = {
    schema: 1,
    kind: 'ceiling',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: round((monotonicMs() - started) / 1000, 1),
    machine: machineInfo(),
    node: process.version,
    git,
    note:
      "All instances share this machine's cores with Kafka, the producer and the load clients: more instances add no CPU here. " +
      'The figures show what every-instance-reads-everything costs per record, not what N machines would sustain.',
    params: { ...params, resultsDir: relative(projectRoot, resultsDir) || '.' },
    kafka: { embedded, version: embedded ? KAFKA_VERSION : 'external', partitions: params.partitions },
    runs,
    fit,
    workDir,
  };
  const text = markdown(results);
  const jsonFile = join(resultsDir, `ceiling-${stamp}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(resultsDir, `ceiling-${stamp}.md`), text);
  writeFileSync(join(resultsDir, 'ceiling-latest.md'), text);
  console.log(`\n${text}`);
  log(`results: ${jsonFile} (and .md, ceiling-latest.md)`);
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
    console.error(`[ceiling] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    abort('failed', 1);
  });
