// @ts-check
/**
 * The processes under test and how they are started: the gateway's production build
 * (`node dist/main.js`, npm start's flags) with the environment every entry point gives it, and
 * the floors beside it. A started target comes with its load (not yet opened) as a scenario
 * context; stopping it closes the load first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_AUDIENCE } from './jwt.mjs';
import { Load } from './load.mjs';
import { formatProfileSummary, summariseProfile } from './profile-summary.mjs';
import { benchDir, projectRoot, TargetProcess } from './processes.mjs';
import { cpuMarks } from './accounting.mjs';
import { drain } from './traffic.mjs';

/**
 * What runs: the gateway, the raw floor (every scenario), and the Nest @Sse() floors, which only
 * hold idle streams: what the framework alone keeps per connection, on each HTTP adapter.
 */
export const TARGET_KINDS = {
  gateway: { name: 'gateway', file: '', env: {} },
  raw: { name: 'raw SSE floor', file: 'raw-sse-server.mjs', env: {} },
  nest: { name: 'Nest @Sse() floor', file: 'nest-sse-floor.mjs', env: { NEST_FLOOR_ADAPTER: 'express' } },
  nestFastify: {
    name: 'Nest @Sse() floor on Fastify',
    file: 'nest-sse-floor.mjs',
    env: { NEST_FLOOR_ADAPTER: 'fastify' },
  },
};
/** @typedef {keyof typeof TARGET_KINDS} TargetKind */

/** The gateway's production build. */
export const GATEWAY_SCRIPT = join(projectRoot, 'dist', 'main.js');

/** @param {string} script @param {string} command */
export function requireBuilt(script, command) {
  if (!existsSync(script))
    throw new Error(`${script} is missing: run \`npm run build\` first (${command} does)`);
}

/**
 * The gateway's environment in every entry point: a clean one, the run's secret and audience,
 * port 0, a heartbeat of 15 s and no stream ending during a run; `extra` adds or overrides.
 * @param {{ brokers: string[], topic: string, secret: string, heartbeatMs: number }} setup
 * @param {Record<string, string>} [extra]
 * @returns {Record<string, string>}
 */
export function gatewayEnv({ brokers, topic, secret, heartbeatMs }, extra = {}) {
  return {
    PATH: process.env.PATH ?? '',
    NO_COLOR: '1',
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPICS: topic,
    KAFKA_GROUP_PREFIX: 'bench',
    JWT_SECRET: secret,
    JWT_AUDIENCE: BENCH_AUDIENCE,
    HOST: '127.0.0.1',
    PORT: '0',
    SSE_HEARTBEAT_MS: String(heartbeatMs),
    SSE_MAX_LIFETIME_MS: String(24 * 3600_000),
    ...extra,
  };
}

/**
 * A started target with its load and producer, as scenarios get it.
 * @typedef {{ session: import('./session.mjs').Session, params: import('./params.mjs').BenchParams,
 *   kind: TargetKind, label: string, target: TargetProcess, load: Load,
 *   producer: import('./producer.mjs').BenchProducer,
 *   cpuMarks: () => import('./accounting.mjs').CpuMarks,
 *   drain: (expected: number, what: string, limits?: { idleMs?: number, hardMs?: number }) => Promise<boolean>,
 *   stop: () => Promise<void> }} Context
 */

/**
 * Starts a target of `npm run bench` on `topic` with a load for `params.streams` streams (not yet
 * opened: the idle scenario opens them).
 * @param {import('./session.mjs').Session} session
 * @param {import('./params.mjs').BenchParams} params
 * @param {TargetKind} kind
 * @param {{ brokers: string[], producer: import('./producer.mjs').BenchProducer, topic: string, name: string,
 *   env?: Record<string, string> }} setup `name` tells apart several runs of one kind (`" 64 partitions"`)
 * @returns {Promise<Context>}
 */
export async function startTarget(session, params, kind, setup) {
  const { name, file, env } = TARGET_KINDS[kind];
  const label = `[${name}${setup.name}]`;
  const script = kind === 'gateway' ? GATEWAY_SCRIPT : join(benchDir, file);
  requireBuilt(script, 'npm run bench');
  session.log(`${label} starting ${relative(projectRoot, script)}`);
  const target = await TargetProcess.start({
    name: `the ${name}`,
    script,
    nodeArgs: params.nodeOptions,
    env: gatewayEnv(
      { ...setup, secret: session.secret, heartbeatMs: params.heartbeatMs },
      {
        REPLAY_MAX_BYTES: String(params.replayMaxBytes),
        // The load opens streams as fast as it can; the storm measures the open rate limit.
        STREAM_OPENS_PER_SECOND: '1000000',
        ...env,
        ...setup.env,
      },
    ),
    logFile: join(session.workDir, `${kind}${setup.name.replace(/\W+/g, '-')}.log`),
    startTimeoutMs: 180_000,
  });
  const stopTarget = session.onCleanup(`${label} process`, () => target.stop());
  const load = new Load({
    streams: params.streams,
    clients: params.clients,
    concurrency: params.connectConcurrency,
    secret: session.secret,
    tokenTtlSeconds: Math.max(3600, params.timeoutS * 2),
  });
  const closeLoad = session.onCleanup(`${label} load clients`, () => load.close());
  session.log(`${label} up at ${target.url} (pid ${target.pid}), ready`);
  return {
    session,
    params,
    kind,
    label,
    target,
    load,
    producer: setup.producer,
    cpuMarks: () => cpuMarks({ targets: [target], loads: [load], kafkaPid: session.kafkaPid }),
    drain: (expected, what, limits = {}) =>
      drain(session, () => load.progress.delivered, expected, { ...limits, label: `${label} ${what}` }),
    stop: async () => {
      session.log(`${label} closing streams and stopping`);
      await closeLoad();
      const { code, signal } = await stopTarget();
      session.log(`${label} stopped (${signal ?? `exit ${code}`})`);
    },
  };
}

/**
 * Starts the CPU profiler in the target when BENCH_PROFILE names this scenario and
 * BENCH_PROFILE_TARGETS this target; returns the function that stops it and summarises the profile.
 * @param {Context} ctx
 * @param {string} scenario
 */
export async function profileIfAsked(ctx, scenario) {
  /** @type {() => Promise<{ file: string, summary: import('./profile-summary.mjs').ProfileSummary } | undefined>} */
  const none = () => Promise.resolve(undefined);
  if (!ctx.params.profile.includes(scenario) || !ctx.params.profileTargets.includes(ctx.kind)) return none;
  await ctx.target.profileStart();
  ctx.session.log(`${ctx.label} ${scenario}: CPU profiler on`);
  return async () => {
    const file = join(ctx.session.workDir, `${ctx.kind}-${scenario}.cpuprofile`);
    await ctx.target.profileStop(file);
    /** @type {unknown} */
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    const summary = summariseProfile(/** @type {import('./profile-summary.mjs').CpuProfile} */ (profile), 30);
    ctx.session.log(`${ctx.label} ${scenario}: profile written to ${file}\n${formatProfileSummary(summary)}`);
    return { file, summary };
  };
}

/** The gateway's own position type, from its build, to write cursors as it does. */
export async function gatewayLogPosition() {
  /** @type {unknown} */
  const module = await import(pathToFileURL(join(projectRoot, 'dist', 'log', 'log-position.js')).href);
  return /** @type {typeof import('../../src/log/log-position.js')} */ (module).LogPosition;
}
