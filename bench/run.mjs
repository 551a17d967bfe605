// @ts-check
/**
 * `npm run bench` (full) and `npm run bench:smoke`: the gateway's production build under load,
 * against floors measured in the same run, on the same broker, topic and events. See
 * bench/README.md for what is measured and how; every knob is an environment variable (BENCH_*,
 * read in harness/params.mjs).
 *
 * Order (targets run one after the other, never together, so they never share the two cores):
 *   Kafka (embedded unless KAFKA_BROKERS) → topic → for the gateway, then the raw SSE floor:
 *   start it, idle, warm-up, targeted, broadcast, fan-out, steadyModerate, steady, stop it →
 *   the Nest @Sse() floors' idle streams (Express, then Fastify) → the wide topic → the reconnect storm →
 *   the long absence → cursor cost →
 *   the Kafka consume floors → results JSON + Markdown.
 */
import kafkajs from 'kafkajs';
import { ensureTopics } from '../scripts/kafka-topics.mjs';
import { benchParams, fileStamp, outputDirs } from './harness/params.mjs';
import { BenchProducer } from './harness/producer.mjs';
import { markdownReport, ratios } from './harness/report.mjs';
import { fmt, isEntryPoint, runEntryPoint, Session } from './harness/session.mjs';
import { startTarget } from './harness/targets.mjs';
import { consumeFloor, platformaticFloor } from './scenarios/consume-floor.mjs';
import { cursorCost } from './scenarios/cursor-cost.mjs';
import { fanoutScenario } from './scenarios/fanout.mjs';
import { idleScenario } from './scenarios/idle.mjs';
import { mixedCapacity, steadyScenario } from './scenarios/steady.mjs';
import { longAbsenceScenario } from './scenarios/long-absence.mjs';
import { stormScenario } from './scenarios/storm.mjs';
import { throughputScenario } from './scenarios/throughput.mjs';
import { warmUp } from './scenarios/warm-up.mjs';
import { wideScenario } from './scenarios/wide.mjs';

const { Kafka, logLevel } = kafkajs;

/**
 * @typedef {import('./harness/params.mjs').BenchParams} BenchParams
 * @typedef {{ brokers: string[], producer: BenchProducer, moderateRate?: number }} Shared
 */

/**
 * One target, every scenario: start, idle, warm-up, targeted, broadcast, fan-out, steadyModerate,
 * steady, stop.
 * @param {Session} session
 * @param {BenchParams} params
 * @param {'gateway' | 'raw'} kind
 * @param {Shared} shared the gateway's run sets `moderateRate` for the floor's
 */
async function runTarget(session, params, kind, shared) {
  const ctx = await startTarget(session, params, kind, { ...shared, topic: params.topic, name: '' });
  const { target, load } = ctx;
  try {
    const idle = await idleScenario(ctx);
    await warmUp({ ...ctx, streams: params.streams, loads: [load] });
    const targeted = await throughputScenario(ctx, 'targeted');
    const broadcast = await throughputScenario(ctx, 'broadcast');
    const fanout = await fanoutScenario(ctx);
    // The steady mix at a load below saturation: a fraction of the capacity the gateway showed
    // (the floor gets the same load as the gateway, so their latencies compare).
    shared.moderateRate ??= Math.max(
      1,
      Math.floor(
        params.moderateFraction *
          mixedCapacity({ targeted, broadcast }, params.steadyBroadcastPercent, params.streams),
      ),
    );
    const steadyModerate = await steadyScenario(ctx, {
      name: 'steadyModerate',
      rate: shared.moderateRate,
      percent: params.steadyBroadcastPercent,
      durationS: params.steadyDurationS,
    });
    // Memory once it has carried traffic (the replay buffer holds events now); best effort.
    const afterTraffic = await target.memory().catch(() => undefined);
    // Last, as it may saturate: a backlog left behind then delays nothing that is measured.
    const steady = await steadyScenario(ctx, {
      name: 'steady',
      rate: params.steadyRate,
      percent: params.steadyBroadcastPercent,
      durationS: params.steadyDurationS,
    });
    const { closed } = load.progress;
    if (closed > 0)
      session.log(`${ctx.label} WARNING: ${closed} streams were closed by the server during the run`);
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
    await ctx.stop();
  }
}

/**
 * Idle streams only (the Nest floors do nothing else).
 * @param {Session} session @param {BenchParams} params @param {import('./harness/targets.mjs').TargetKind} kind
 * @param {Shared} shared
 */
async function idleOnly(session, params, kind, shared) {
  const ctx = await startTarget(session, params, kind, { ...shared, topic: params.topic, name: '' });
  try {
    return await idleScenario(ctx);
  } finally {
    await ctx.stop();
  }
}

/**
 * What follows the targets' runs: the wide topic, the reconnect storm, the long absence, the cursor's cost and the
 * Kafka consume floors (over every record the run produced).
 * @param {Session} session @param {BenchParams} params @param {string[]} brokers
 */
async function beyondTheTargets(session, params, brokers) {
  /** @type {Partial<Record<'gateway' | 'raw', Awaited<ReturnType<typeof wideScenario>>>>} */
  const wide = {};
  if (params.widePartitions > 0) {
    const topic = `${params.topic}-wide`;
    await ensureTopics(brokers, [topic], params.widePartitions);
    const wideProducer = new BenchProducer(brokers, topic);
    await wideProducer.connect();
    const disconnectWide = session.onCleanup('wide producer', () => wideProducer.disconnect());
    for (const kind of params.targets) {
      wide[kind] = await wideScenario(session, params, kind, { brokers, producer: wideProducer, topic });
    }
    await disconnectWide();
  }
  let storm = null;
  if (params.stormRate > 0 && params.targets.includes('gateway')) {
    const topic = `${params.topic}-storm`;
    await ensureTopics(brokers, [topic], params.partitions);
    storm = await stormScenario(session, params, { brokers, topic });
  }
  let absence = null;
  if (params.absenceRate > 0 && params.targets.includes('gateway')) {
    const topic = `${params.topic}-absence`;
    await ensureTopics(brokers, [topic], params.partitions);
    absence = await longAbsenceScenario(session, params, { brokers, topic });
  }
  const cursor = await cursorCost(params);
  const kafkaConsume = await consumeFloor(session, brokers, params.topic, 'eachMessage');
  const eachBatch = await consumeFloor(session, brokers, params.topic, 'eachBatch');
  const platformatic = await platformaticFloor(session, brokers, params.topic).catch(
    (/** @type {unknown} */ err) => {
      session.log(`[kafka consume floor] @platformatic/kafka: not measured (${String(err)})`);
      return null;
    },
  );
  return {
    wide: { gateway: wide.gateway ?? null, raw: wide.raw ?? null, cursor },
    storm,
    absence,
    kafkaConsume: { ...kafkaConsume, eachBatch, platformatic },
  };
}

/**
 * @param {Session} session
 * @param {BenchParams} params
 * @param {Record<string, string | undefined>} env
 */
async function bench(session, params, env) {
  session.log(
    `${params.mode} run: ${fmt(params.streams)} streams over ${params.clients} load clients, ${params.durationS} s per scenario, ` +
      `targets ${params.targets.join(' then ')}; logs in ${session.workDir}`,
  );
  const kafka = await session.kafka(env);
  const { brokers } = kafka;
  session.log(`Kafka at ${brokers.join(',')}; topic ${params.topic} with ${params.partitions} partitions`);
  await ensureTopics(brokers, [params.topic], params.partitions);
  if (!kafka.embedded && !env.BENCH_TOPIC) {
    session.onCleanup('bench topic', async () => {
      const admin = new Kafka({ brokers, clientId: 'bench-setup', logLevel: logLevel.WARN }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [params.topic] }).finally(() => admin.disconnect());
    });
  }
  const producer = new BenchProducer(brokers, params.topic);
  await producer.connect();
  const disconnectProducer = session.onCleanup('producer', () => producer.disconnect());

  /** @type {Partial<Record<'gateway' | 'raw', Partial<Awaited<ReturnType<typeof runTarget>>>>>} */
  const targets = {};
  /** @type {Shared} */
  const shared = { brokers, producer };
  for (const kind of params.targets) {
    targets[kind] = params.idleOnly
      ? { idle: await idleOnly(session, params, kind, shared) }
      : await runTarget(session, params, kind, shared);
  }
  const nestFloors = params.nestFloor && params.targets.includes('gateway');
  const nestIdle = nestFloors ? await idleOnly(session, params, 'nest', shared) : null;
  const nestFastifyIdle = nestFloors ? await idleOnly(session, params, 'nestFastify', shared) : null;
  await disconnectProducer();
  const rest = params.idleOnly ? undefined : await beyondTheTargets(session, params, brokers);

  const results = {
    schema: 1,
    ...session.facts(),
    params: { ...params, resultsDir: session.resultsDirForResults },
    kafka: {
      embedded: kafka.embedded,
      version: kafka.version,
      topic: params.topic,
      partitions: params.partitions,
    },
    gateway: targets.gateway ?? null,
    floors: {
      kafkaConsume: rest?.kafkaConsume ?? null,
      rawSse: targets.raw ?? null,
      nestSse: nestIdle && { idle: nestIdle },
      nestFastifySse: nestFastifyIdle && { idle: nestFastifyIdle },
    },
    wide: rest?.wide ?? null,
    storm: rest?.storm ?? null,
    absence: rest?.absence ?? null,
    ratios: ratios(targets.gateway, targets.raw, rest?.kafkaConsume.eachBatch ?? { recordsPerSecond: NaN }),
    workDir: session.workDir,
  };
  const markdown = markdownReport(results);
  const jsonFile = session.writeResults('', results, markdown);
  console.log(`\n${markdown}`);
  session.log(`results: ${jsonFile} (and .md, latest.md)`);
}

/** Runs the bench with `env`'s parameters and exits the process. @param {Record<string, string | undefined>} env */
export async function main(env = process.env) {
  const params = benchParams(env);
  const stamp = fileStamp(new Date());
  const session = new Session({
    name: 'bench',
    stamp,
    timeoutS: params.timeoutS,
    ...outputDirs(env, 'bench', stamp),
  });
  return session.run(() => bench(session, params, env));
}

if (isEntryPoint(import.meta.url)) runEntryPoint('bench', main);
