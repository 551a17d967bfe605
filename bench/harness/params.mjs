// @ts-check
/**
 * Every knob of the bench, read from the environment (BENCH_*, SOAK_*) in one place, checked, and
 * returned as plain objects: the entry points read them once and pass them down, so scenarios see
 * parameters, never the environment. A bad value is one plain error naming the variable.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { splitList } from '../../scripts/kafka-topics.mjs';
import { nodeFlagsOr } from '../../scripts/node-flags.mjs';
import { benchDir } from './processes.mjs';
import { BROADCAST_DATA_BYTES } from './producer.mjs';

/** @typedef {Record<string, string | undefined>} Env */

/** A parameter the environment gives wrongly: the run stops with this one line. */
export class ParamError extends Error {}

/**
 * @param {Env} env
 * @param {string} name
 * @param {number} fallback
 * @param {number} [min]
 * @param {number} [max]
 */
export function numberEnv(env, name, fallback, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ParamError(`${name}=${raw}: expected a number from ${min} to ${max}`);
  }
  return value;
}

/** @param {Env} env */
export function isSmoke(env) {
  return env.BENCH_SMOKE === '1' || env.BENCH_SMOKE === 'true';
}

/** Time in file names: ISO, whole seconds, `-` for `:`. @param {Date} date */
export function fileStamp(date) {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/** A name of its own for this run's topics: `<prefix>-<yyyymmddhhmmss>-<random>`. @param {string} prefix */
export function runTopic(prefix) {
  return `${prefix}-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(2).toString('hex')}`;
}

/**
 * Where a run writes: its results (BENCH_RESULTS_DIR, default bench/results) and its targets' logs
 * and profiles (BENCH_WORK_DIR, default a directory of its own in the system temp directory).
 * @param {Env} env
 * @param {string} kind `bench`, `ceiling` or `soak`, in the work directory's name
 * @param {string} stamp
 */
export function outputDirs(env, kind, stamp) {
  return {
    resultsDir: resolve(env.BENCH_RESULTS_DIR ?? join(benchDir, 'results')),
    workDir: resolve(
      env.BENCH_WORK_DIR ?? join(os.tmpdir(), `kafka-sse-gateway-${kind}-${stamp}-${process.pid}`),
    ),
  };
}

/** What every entry point shares: the gateway's settings and how the load connects. @param {Env} env */
function shared(env) {
  return {
    streamsPerClient: Math.round(numberEnv(env, 'BENCH_STREAMS_PER_CLIENT', 5000, 1, 15_000)),
    connectConcurrency: Math.round(numberEnv(env, 'BENCH_CONNECT_CONCURRENCY', 32, 1, 5000)),
    partitions: Math.round(numberEnv(env, 'BENCH_PARTITIONS', 3, 1, 1000)),
    heartbeatMs: 15_000,
    replayMaxBytes: Math.round(numberEnv(env, 'BENCH_REPLAY_MAX_BYTES', 64 * 1024 ** 2, 0)),
    /** node flags of every process under test: `npm start`'s unless BENCH_NODE_OPTIONS says otherwise. */
    nodeOptions: nodeFlagsOr(env.BENCH_NODE_OPTIONS),
  };
}

/** Load client processes for `streams`: one per BENCH_STREAMS_PER_CLIENT, at least two. @param {Env} env @param {number} streams @param {number} perClient */
function clientsFor(env, streams, perClient) {
  const clients = Math.round(
    numberEnv(env, 'BENCH_CLIENTS', Math.max(2, Math.ceil(streams / perClient)), 1, 253),
  );
  if (Math.ceil(streams / clients) > 15_000) {
    throw new ParamError(
      'Too many streams per load client: raise BENCH_CLIENTS (one process holds at most ~19k sockets)',
    );
  }
  return clients;
}

/** The targets `npm run bench` can measure in every scenario. */
export const BENCH_TARGETS = /** @type {const} */ (['gateway', 'raw']);

/** `npm run bench`'s parameters (see bench/README.md, "Knobs"). @param {Env} env */
export function benchParams(env) {
  const smoke = isSmoke(env);
  const common = shared(env);
  const streams = Math.round(numberEnv(env, 'BENCH_STREAMS', smoke ? 200 : 10_000, 1, 19_000));
  const durationS = numberEnv(env, 'BENCH_DURATION_S', smoke ? 3 : 20, 0.5, 3600);
  const targets = splitList(env.BENCH_TARGETS ?? 'gateway,raw');
  for (const target of targets) {
    if (!(/** @type {readonly string[]} */ (BENCH_TARGETS).includes(target)))
      throw new ParamError(`BENCH_TARGETS: unknown target ${target}`);
  }
  const idleOnly = env.BENCH_IDLE_ONLY === '1';
  return {
    // An idle-only run is neither: `npm run simulate` must not take it for a standard run.
    mode: idleOnly ? 'idle' : smoke ? 'smoke' : 'full',
    /** Only the idle scenario, on the gateway and every floor (BENCH_IDLE_ONLY=1). */
    idleOnly,
    streams,
    durationS,
    steadyDurationS: numberEnv(env, 'BENCH_STEADY_DURATION_S', durationS, 0.5, 3600),
    steadyRate: numberEnv(env, 'BENCH_STEADY_RATE', 1000, 1, 1_000_000),
    // One broadcast a second at 1,000 events/s: each one reaches every stream, so 10% would be 1M deliveries/s.
    steadyBroadcastPercent: numberEnv(env, 'BENCH_STEADY_BROADCAST_PCT', 0.1, 0, 100),
    /** The steady scenario stops producing once delivery is this far behind (it did not keep up). */
    steadyMaxLagS: numberEnv(env, 'BENCH_STEADY_MAX_LAG_S', 5, 0.5, 600),
    /** steadyModerate offers the steady mix at this fraction of the gateway's estimated capacity for it. */
    moderateFraction: numberEnv(env, 'BENCH_MODERATE_FRACTION', 0.5, 0.01, 1),
    /**
     * Events per stream the throughput scenarios keep queued ahead of the clients: the same for
     * every target, so each one is offered the same work and reads fetches of the same size (a
     * queue that grew with the target's own rate gave a faster target larger fetches, hence fewer
     * socket writes per delivery, and made the slower one look slower still).
     */
    queuedPerStream: {
      targeted: Math.round(numberEnv(env, 'BENCH_QUEUED_TARGETED_PER_STREAM', 8, 1, 1000)),
      broadcast: Math.round(numberEnv(env, 'BENCH_QUEUED_BROADCAST_PER_STREAM', 32, 1, 1000)),
    },
    maxBatch: Math.round(numberEnv(env, 'BENCH_MAX_BATCH', 1000, 1, 100_000)),
    clients: clientsFor(env, streams, common.streamsPerClient),
    connectConcurrency: common.connectConcurrency,
    idleSettleS: numberEnv(env, 'BENCH_IDLE_SETTLE_S', smoke ? 1 : 3, 0, 600),
    partitions: common.partitions,
    /** Partitions of the topic of the wide scenario (0 leaves it out). */
    widePartitions: Math.round(numberEnv(env, 'BENCH_WIDE_PARTITIONS', smoke ? 8 : 64, 0, 1000)),
    /** Broadcasts sent one at a time in the fan-out scenario. */
    fanoutEvents: Math.round(numberEnv(env, 'BENCH_FANOUT_EVENTS', smoke ? 2 : 10, 1, 1000)),
    /** Whether idle streams are also measured on the Nest @Sse() floors, Express and Fastify (BENCH_NEST_FLOOR=0 leaves them out). */
    nestFloor: env.BENCH_NEST_FLOOR !== '0',
    /** Records a second of the storm's 15 minutes of history (0 leaves the storm out). */
    stormRate: numberEnv(env, 'BENCH_STORM_RATE', smoke ? 5 : 100, 0, 10_000),
    /** Targeted records a second while every stream is away, in the long absence (0 leaves it out). */
    absenceRate: numberEnv(env, 'BENCH_ABSENCE_RATE', 1000, 0, 100_000),
    /** How long the long absence lasts, in seconds of traffic. */
    absenceS: numberEnv(env, 'BENCH_ABSENCE_S', smoke ? 5 : 600, 1, 24 * 3600),
    /** The replay store of the gateway the streams come back to: too small to hold the absence. */
    absenceReplayMaxBytes: Math.round(
      numberEnv(env, 'BENCH_ABSENCE_REPLAY_MAX_BYTES', smoke ? 64 * 1024 : 4 * 1024 ** 2, 0),
    ),
    /** The replay store of the warm start it is compared with: room for the whole absence. */
    absenceWarmMaxBytes: Math.round(numberEnv(env, 'BENCH_ABSENCE_WARM_MAX_BYTES', 1024 ** 3, 0)),
    topic: env.BENCH_TOPIC ?? runTopic('bench'),
    heartbeatMs: common.heartbeatMs,
    replayMaxBytes: common.replayMaxBytes,
    broadcastDataBytes: BROADCAST_DATA_BYTES,
    targets: /** @type {Array<(typeof BENCH_TARGETS)[number]>} */ (targets),
    /** Scenarios to CPU-profile, e.g. "broadcast" or "targeted,broadcast"; profiles go to the work dir. */
    profile: splitList(env.BENCH_PROFILE),
    profileTargets: splitList(env.BENCH_PROFILE_TARGETS ?? 'gateway'),
    nodeOptions: common.nodeOptions,
    timeoutS: numberEnv(env, 'BENCH_TIMEOUT_S', smoke ? 200 : 1800, 10),
  };
}

/** @typedef {ReturnType<typeof benchParams>} BenchParams */

/** The ceiling's mixes, by name. */
export const CEILING_MIXES = /** @type {const} */ (['targeted', 'mixed', 'broadcast']);
/** @typedef {(typeof CEILING_MIXES)[number]} MixName */

/** `npm run bench:ceiling`'s parameters (see bench/README.md, "The ceiling"). @param {Env} env */
export function ceilingParams(env) {
  const smoke = isSmoke(env);
  const common = shared(env);
  const streams = Math.round(numberEnv(env, 'BENCH_STREAMS', smoke ? 300 : 10_000, 1, 19_000));
  return {
    mode: smoke ? 'smoke' : 'full',
    streams,
    instances: splitList(env.BENCH_CEILING_INSTANCES ?? '1,2,3').map((n) => {
      const count = Number(n);
      if (!Number.isInteger(count) || count < 1 || count > 20)
        throw new ParamError(`BENCH_CEILING_INSTANCES: ${n} is not a count from 1 to 20`);
      return count;
    }),
    mixes: /** @type {MixName[]} */ (
      splitList(env.BENCH_CEILING_MIXES ?? 'targeted,mixed,broadcast').map((name) => {
        if (!(/** @type {readonly string[]} */ (CEILING_MIXES).includes(name)))
          throw new ParamError(`BENCH_CEILING_MIXES: unknown mix ${name}`);
        return name;
      })
    ),
    mixedBroadcastPercent: numberEnv(env, 'BENCH_CEILING_MIXED_BROADCAST_PCT', 0.1, 0, 100),
    stepS: numberEnv(env, 'BENCH_CEILING_STEP_S', smoke ? 3 : 10, 1, 600),
    maxLagS: numberEnv(env, 'BENCH_CEILING_MAX_LAG_S', smoke ? 2 : 3, 0.5, 600),
    /** The search stops once the failing rate is within this fraction above the passing one. */
    resolution: numberEnv(env, 'BENCH_CEILING_RESOLUTION', smoke ? 0.5 : 0.1, 0.01, 10),
    /** Quiet time after the warm-up in which each gateway's idle CPU is measured, to subtract it. */
    idleS: numberEnv(env, 'BENCH_CEILING_IDLE_S', smoke ? 2 : 5, 0.5, 600),
    maxSteps: Math.round(numberEnv(env, 'BENCH_CEILING_MAX_STEPS', smoke ? 6 : 12, 2, 100)),
    streamsPerClient: common.streamsPerClient,
    connectConcurrency: common.connectConcurrency,
    partitions: common.partitions,
    heartbeatMs: common.heartbeatMs,
    replayMaxBytes: common.replayMaxBytes,
    nodeOptions: common.nodeOptions,
    timeoutS: numberEnv(env, 'BENCH_TIMEOUT_S', smoke ? 400 : 5400, 10),
    topicPrefix: runTopic('ceiling'),
  };
}

/** @typedef {ReturnType<typeof ceilingParams>} CeilingParams */

/** `npm run soak`'s parameters (see bench/README.md, "The soak"). @param {Env} env */
export function soakParams(env) {
  const common = shared(env);
  const minutes = numberEnv(env, 'SOAK_MINUTES', 60, 0.5, 7 * 24 * 60);
  const streams = Math.round(numberEnv(env, 'SOAK_STREAMS', 10_000, 1, 19_000));
  const replayWindowS = numberEnv(env, 'SOAK_REPLAY_WINDOW_S', 120, 10, 24 * 3600);
  return {
    mode: 'soak',
    minutes,
    streams,
    clients: clientsFor(env, streams, common.streamsPerClient),
    connectConcurrency: common.connectConcurrency,
    partitions: common.partitions,
    topic: env.BENCH_TOPIC ?? runTopic('soak'),
    /** Events a second: each for one user; for SOAK_USERIDS_PER_EVENT users; for everyone. */
    targetedRate: numberEnv(env, 'SOAK_TARGETED_RATE', 100, 0, 100_000),
    userIdsRate: numberEnv(env, 'SOAK_USERIDS_RATE', 10, 0, 100_000),
    usersPerUserIdsEvent: Math.round(numberEnv(env, 'SOAK_USERIDS_PER_EVENT', 3, 2, 100)),
    broadcastRate: numberEnv(env, 'SOAK_BROADCAST_RATE', 0.2, 0, 1000),
    /** Streams that reconnect with their last id, per minute, in percent of all. */
    reconnectPercentPerMinute: numberEnv(env, 'SOAK_RECONNECT_PCT_PER_MIN', 1, 0, 100),
    /** Streams that stop reading for `slowPauseS` of every minute, and get heavier events meanwhile. */
    slowStreams: Math.round(numberEnv(env, 'SOAK_SLOW_STREAMS', Math.min(5, streams), 0, streams)),
    slowPauseS: numberEnv(env, 'SOAK_SLOW_PAUSE_S', 30, 1, 59),
    slowEventsPerSecond: numberEnv(env, 'SOAK_SLOW_EVENTS_PER_S', 10, 0, 1000),
    slowEventBytes: Math.round(numberEnv(env, 'SOAK_SLOW_EVENT_BYTES', 2048, 0, 60_000)),
    /** A second instance takes over half-way: started, then the first one is sent SIGTERM. */
    restart: env.SOAK_RESTART !== '0',
    replayWindowS,
    sampleS: numberEnv(env, 'SOAK_SAMPLE_S', 10, 1, 600),
    /** The stream lifetime the gateway gets: its default, 30 minutes (with jitter). */
    streamLifetimeS: numberEnv(env, 'SOAK_STREAM_LIFETIME_S', 1800, 10, 24 * 3600),
    /** Fails when RSS grows faster than this after warm-up, on an instance that ran long enough to tell. */
    maxRssSlopeMiBPerHour: numberEnv(env, 'SOAK_MAX_RSS_SLOPE_MIB_PER_HOUR', 5, 0),
    slopeMinMinutes: numberEnv(env, 'SOAK_SLOPE_MIN_MINUTES', 10, 1),
    /** Fails when consumer lag grows faster than this after warm-up and ends above `lagFloor`. */
    maxLagGrowthPerMinute: numberEnv(env, 'SOAK_MAX_LAG_GROWTH_PER_MIN', 10, 0),
    lagFloor: numberEnv(env, 'SOAK_LAG_FLOOR', 100, 0),
    drainS: numberEnv(env, 'SOAK_DRAIN_S', 60, 5, 3600),
    heartbeatMs: common.heartbeatMs,
    replayMaxBytes: common.replayMaxBytes,
    nodeOptions: common.nodeOptions,
    timeoutS: numberEnv(env, 'BENCH_TIMEOUT_S', minutes * 60 + 900, 60),
  };
}

/** @typedef {ReturnType<typeof soakParams>} SoakParams */
