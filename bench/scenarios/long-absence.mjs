// @ts-check
/**
 * A long absence, for the gateway alone: every stream closes, `absenceS` seconds of targeted
 * traffic happen (`absenceRate` records a second, each for one user, numbered per user, stamped
 * over the last `absenceS` seconds and produced as fast as the producer goes), then every stream
 * resumes at once from its own last id, at the default open rate limits. The gateway's replay
 * store is too small to hold the absence, so the resumes are caught up from Kafka
 * (log/catch-up.ts). Reports how long until every stream is open, has every event of its user, and
 * is live (has a broadcast sent once all were open), the gateway's CPU and peak RSS meanwhile, the
 * catch-up counters, and per stream what was lost, duplicated or misdelivered; then how long a
 * gateway started fresh on the same topic, with a replay window covering the absence, takes to be
 * ready (to have read that window): the warm start the catch-up is compared with.
 *
 * Part of `npm run bench`; also runs alone, with the bench's parameters:
 * `node bench/scenarios/long-absence.mjs` (after `npm run build`), results as `absence-<time>.json`.
 */
import { join } from 'node:path';
import { ensureTopics } from '../../scripts/kafka-topics.mjs';
import { Load } from '../harness/load.mjs';
import { labelledTotal, scrapeMetrics, total } from '../harness/metrics.mjs';
import { numberOf } from '../harness/numbering.mjs';
import { benchParams, fileStamp, outputDirs } from '../harness/params.mjs';
import { rssOf, TargetProcess, waitFor } from '../harness/processes.mjs';
import { BenchProducer, broadcastRecord } from '../harness/producer.mjs';
import { absenceLines } from '../harness/report.mjs';
import { fmt, isEntryPoint, round, runEntryPoint, Session } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';
import { GATEWAY_SCRIPT, gatewayEnv, requireBuilt } from '../harness/targets.mjs';
import { drain } from '../harness/traffic.mjs';

const TRACKED = 'bench.absence';
const BATCH = 5000;

/**
 * @param {import('../harness/session.mjs').Session} session
 * @param {import('../harness/params.mjs').BenchParams} params
 * @param {{ brokers: string[], topic: string }} setup
 */
export async function longAbsenceScenario(session, params, setup) {
  const label = '[gateway long absence]';
  const { streams } = params;
  const { absenceRate, absenceS } = params;
  const absent = Math.round(absenceRate * absenceS);
  const producer = new BenchProducer(setup.brokers, setup.topic);
  await producer.connect();
  const disconnect = session.onCleanup('long absence producer', () => producer.disconnect());
  const setupEnv = { ...setup, secret: session.secret, heartbeatMs: params.heartbeatMs };
  try {
    // The default open rates, as for the storm: they are what spreads the return.
    const gateway = await TargetProcess.start({
      name: 'the gateway (long absence)',
      script: GATEWAY_SCRIPT,
      nodeArgs: params.nodeOptions,
      env: gatewayEnv(setupEnv, { REPLAY_MAX_BYTES: String(params.absenceReplayMaxBytes) }),
      logFile: join(session.workDir, 'gateway-absence.log'),
      startTimeoutMs: 180_000,
    });
    const stopGateway = session.onCleanup(`${label} process`, () => gateway.stop());
    /** @type {Record<string, unknown>} */
    let result;
    try {
      const lastIds = await openAndLeave(session, params, gateway, producer, label);

      session.log(
        `${label} producing ${fmt(absent)} targeted records (${fmt(absenceRate)}/s for ${fmt(absenceS)} s, ` +
          `stamped over the last ${fmt(absenceS)} s, produced as fast as the producer goes)`,
      );
      const producedAt = monotonicMs();
      const now = Date.now();
      for (let from = 0; from < absent; from += BATCH) {
        session.checkStopping();
        const records = [];
        for (let index = from; index < Math.min(absent, from + BATCH); index++) {
          const { user, n } = numberOf(index, streams);
          records.push({
            key: `u${user}`,
            value: JSON.stringify({ type: TRACKED, data: { u: user, n }, userId: `u${user}` }),
            timestamp: String(Math.round(now - absenceS * 1000 + (index * absenceS * 1000) / absent)),
          });
        }
        await producer.send(records);
      }
      const produceSeconds = (monotonicMs() - producedAt) / 1000;
      await waitFor(
        async () =>
          total(await scrapeMetrics(`${gateway.managementUrl}/metrics`), 'kafka_records_consumed_total') >=
          producer.sent,
        `the gateway to consume the ${fmt(absent)} records`,
        Math.max(120_000, absent / 10),
        250,
      );
      const consumedSeconds = (monotonicMs() - producedAt) / 1000;
      session.log(
        `${label} produced in ${round(produceSeconds, 1)} s, consumed by the gateway in ${round(consumedSeconds, 1)} s`,
      );

      result = {
        streams,
        absentRecords: absent,
        absenceRate,
        absenceS,
        replayMaxBytes: params.absenceReplayMaxBytes,
        produceSeconds: round(produceSeconds, 2),
        ...(await comeBack(session, params, gateway, producer, lastIds, absent, label)),
      };
    } finally {
      await stopGateway();
    }
    result.warmStart = await warmStart(session, params, setupEnv, absent, label);
    const warm = /** @type {{ readySeconds: number }} */ (result.warmStart);
    session.log(
      `${label} every stream back and live in ${String(result.liveSeconds)} s; a warm start of the same window ready in ${warm.readySeconds} s`,
    );
    return result;
  } finally {
    await disconnect();
  }
}

/**
 * Opens every stream, tracked; sends a broadcast all must receive; takes each stream's last id and
 * closes them all.
 * @param {import('../harness/session.mjs').Session} session
 * @param {import('../harness/params.mjs').BenchParams} params
 * @param {TargetProcess} gateway
 * @param {BenchProducer} producer
 * @param {string} label
 */
async function openAndLeave(session, params, gateway, producer, label) {
  const { streams } = params;
  const load = newLoad(session, params);
  const closeLoad = session.onCleanup(`${label} load clients (before)`, () => load.close());
  try {
    await load.open(
      new URL('/events', gateway.url),
      Math.max(120_000, streams * 30),
      (p) => session.log(`${label} ${fmt(p.opened)} of ${fmt(streams)} open before the absence`),
      { track: TRACKED },
    );
    await load.expect('bench.before');
    await producer.send([broadcastRecord('bench.before', 0)]);
    const all = await drain(session, () => load.progress.delivered, streams, {
      idleMs: 30_000,
      hardMs: 120_000,
      label: `${label} before`,
    });
    if (!all) throw new Error(`${label} not every stream received the broadcast before the absence`);
    const lastIds = await load.lastIds();
    const missing = lastIds.filter((id) => id === undefined).length;
    if (missing > 0) throw new Error(`${label} ${missing} streams have no id to resume from`);
    session.log(`${label} ${fmt(streams)} streams open and up to date; closing them all`);
    return /** @type {string[]} */ (lastIds);
  } finally {
    await closeLoad();
  }
}

/**
 * Every stream resumes at once from its own last id: the figures of the return.
 * @param {import('../harness/session.mjs').Session} session
 * @param {import('../harness/params.mjs').BenchParams} params
 * @param {TargetProcess} gateway
 * @param {BenchProducer} producer
 * @param {string[]} lastIds
 * @param {number} absent
 * @param {string} label
 */
async function comeBack(session, params, gateway, producer, lastIds, absent, label) {
  const { streams } = params;
  const load = newLoad(session, params);
  const closeLoad = session.onCleanup(`${label} load clients (return)`, () => load.close());
  try {
    const before = await absenceCounters(gateway.managementUrl);
    const rssBefore = rssOf(gateway.pid);
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, rssOf(gateway.pid));
      } catch {
        // gone: the run fails elsewhere
      }
    }, 100);
    try {
      const cpuBefore = gateway.cpuSeconds();
      await gateway.loopDelayStart();
      const started = monotonicMs();
      session.log(`${label} ${fmt(streams)} streams come back at once, each from its own last id`);
      await load.open(
        new URL('/events', gateway.url),
        Math.max(120_000, streams * 30),
        (p) =>
          session.log(
            `${label} ${fmt(p.opened)} of ${fmt(streams)} open, ${fmt(p.refused)} told to retry later, ` +
              `${fmt(p.tracked)} of ${fmt(absent)} events received`,
          ),
        { lastEventIds: lastIds, track: TRACKED, concurrency: Math.ceil(streams / params.clients) },
      );
      const openSeconds = (monotonicMs() - started) / 1000;
      await load.expect('bench.live');
      await producer.send([broadcastRecord('bench.live', 0)]);
      const caughtUp = await drain(session, () => load.progress.tracked, absent, {
        idleMs: 30_000,
        hardMs: Math.max(120_000, absent),
        label: `${label} catching up`,
      });
      const caughtUpSeconds = (monotonicMs() - started) / 1000;
      const live = await drain(session, () => load.progress.delivered, streams, {
        idleMs: 30_000,
        hardMs: 120_000,
        label: `${label} live`,
      });
      const liveSeconds = (monotonicMs() - started) / 1000;
      const cpuSeconds = gateway.cpuSeconds() - cpuBefore;
      const loop = await gateway.loopDelayStop();
      const after = await absenceCounters(gateway.managementUrl);
      const tally = await load.tally(absent, streams);
      const diff = (/** @type {keyof typeof after} */ key) => after[key] - before[key];
      const result = {
        openSeconds: round(openSeconds, 2),
        caughtUpSeconds: round(caughtUpSeconds, 2),
        liveSeconds: round(liveSeconds, 2),
        everyStreamCaughtUp: caughtUp,
        everyStreamLive: live,
        refusedOpens: load.progress.refused,
        gatewayCpuSeconds: round(cpuSeconds, 2),
        gatewayCpuPercent: round((cpuSeconds / Math.max(1e-3, liveSeconds)) * 100, 1),
        rssBeforeBytes: rssBefore,
        peakRssBytes: peakRss,
        maxEventLoopDelayMs: round(loop.maxMs, 1),
        p99EventLoopDelayMs: round(loop.p99Ms, 1),
        catchUpsStarted: diff('started'),
        catchUpsJoined: diff('joined'),
        beyondHorizon: diff('beyondHorizon'),
        recordsScanned: diff('scanned'),
        /** Records read from Kafka per record of the absence: 1 would be one read of each. */
        scannedPerRecord: round(diff('scanned') / Math.max(1, absent), 2),
        eventsServed: diff('served'),
        replays: diff('replays'),
        resets: diff('resets'),
        received: load.progress.tracked,
        completeStreams: tally.complete,
        lost: tally.lost,
        duplicated: tally.duplicated,
        outOfOrder: tally.outOfOrder,
        unexpected: tally.unexpected,
        misdelivered: tally.misdelivered,
        resetsReceived: tally.resets,
      };
      if (result.catchUpsStarted === 0)
        session.log(`${label} WARNING: no catch-up from Kafka: the replay store held the absence`);
      session.log(
        `${label} all open in ${result.openSeconds} s (${fmt(result.refusedOpens)} times told to retry later), ` +
          `all caught up in ${result.caughtUpSeconds} s, all live in ${result.liveSeconds} s; ` +
          `gateway CPU ${result.gatewayCpuSeconds} s, peak RSS ${fmt(peakRss / 2 ** 20)} MiB; ` +
          `${fmt(result.catchUpsStarted)} passes started, ${fmt(result.catchUpsJoined)} joined, ` +
          `${fmt(result.recordsScanned)} records scanned, ${fmt(result.eventsServed)} served; ` +
          `lost ${fmt(result.lost)}, duplicated ${fmt(result.duplicated)}, misdelivered ${fmt(result.misdelivered)}, ` +
          `resets ${fmt(result.resets)}`,
      );
      return result;
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await closeLoad();
  }
}

/**
 * A gateway started fresh on the topic with a replay window covering the absence (and the room
 * to hold it): how long until it is ready, having read that window.
 * @param {import('../harness/session.mjs').Session} session
 * @param {import('../harness/params.mjs').BenchParams} params
 * @param {{ brokers: string[], topic: string, secret: string, heartbeatMs: number }} setupEnv
 * @param {number} absent the records of the absence, which the window holds
 * @param {string} label
 */
async function warmStart(session, params, setupEnv, absent, label) {
  // The records are stamped over the last `absenceS` seconds as of when they were produced; the
  // margin covers the time since.
  const windowMs = params.absenceS * 1000 + 15 * 60_000;
  session.log(`${label} warm start: a fresh gateway reading the last ${fmt(windowMs / 60_000)} minutes`);
  const started = monotonicMs();
  const gateway = await TargetProcess.start({
    name: 'the gateway (warm start)',
    script: GATEWAY_SCRIPT,
    nodeArgs: params.nodeOptions,
    env: gatewayEnv(setupEnv, {
      REPLAY_WINDOW_MS: String(windowMs),
      REPLAY_MAX_BYTES: String(params.absenceWarmMaxBytes),
      REPLAY_MAX_BYTES_PER_USER: String(params.absenceWarmMaxBytes),
    }),
    logFile: join(session.workDir, 'gateway-absence-warm.log'),
    startTimeoutMs: 600_000,
  });
  const readySeconds = (monotonicMs() - started) / 1000;
  const stop = session.onCleanup(`${label} warm-start process`, () => gateway.stop());
  try {
    const cpuSeconds = gateway.cpuSeconds();
    const rssBytes = rssOf(gateway.pid);
    // The replay buffer's gauges are set once a second: wait for them to show the window.
    /** @type {import('../harness/metrics.mjs').Sample[]} */
    let samples = [];
    await waitFor(
      async () => {
        samples = await scrapeMetrics(`${gateway.managementUrl}/metrics`);
        return total(samples, 'sse_replay_buffer_events') >= absent;
      },
      "the warm start's replay buffer to show the window",
      5000,
      250,
    ).catch(() => undefined);
    return {
      readySeconds: round(readySeconds, 2),
      replayWindowMs: windowMs,
      replayMaxBytes: params.absenceWarmMaxBytes,
      bufferedEvents: total(samples, 'sse_replay_buffer_events'),
      bufferBytes: total(samples, 'sse_replay_buffer_bytes'),
      cpuSeconds: round(cpuSeconds, 2),
      rssBytes,
    };
  } finally {
    await stop();
  }
}

/** @param {import('../harness/session.mjs').Session} session @param {import('../harness/params.mjs').BenchParams} params */
function newLoad(session, params) {
  return new Load({
    streams: params.streams,
    clients: params.clients,
    concurrency: params.connectConcurrency,
    secret: session.secret,
    tokenTtlSeconds: Math.max(3600, params.timeoutS * 2),
  });
}

/** The gateway's counters the scenario reads. @param {string} url its management URL */
async function absenceCounters(url) {
  const samples = await scrapeMetrics(`${url}/metrics`);
  const labelled = (/** @type {string} */ name, /** @type {string} */ label) =>
    labelledTotal(samples, name, label);
  return {
    started: labelled('gateway_catchups_total', 'outcome="started"'),
    joined: labelled('gateway_catchups_total', 'outcome="joined"'),
    beyondHorizon: labelled('gateway_catchups_total', 'outcome="beyond-horizon"'),
    scanned: labelled('gateway_catchup_records_total', 'kind="scanned"'),
    served: labelled('gateway_catchup_records_total', 'kind="served"'),
    replays: total(samples, 'sse_replays_total'),
    resets: total(samples, 'sse_resets_total'),
  };
}

/** Runs this scenario alone with `env`'s bench parameters and exits the process. @param {Record<string, string | undefined>} env */
export async function main(env = process.env) {
  const params = benchParams(env);
  const stamp = fileStamp(new Date());
  const session = new Session({
    name: 'bench absence',
    stamp,
    timeoutS: params.timeoutS,
    ...outputDirs(env, 'bench', stamp),
  });
  return session.run(async () => {
    requireBuilt(GATEWAY_SCRIPT, 'npm run bench');
    const { brokers, version } = await session.kafka(env);
    const topic = `${params.topic}-absence`;
    await ensureTopics(brokers, [topic], params.partitions);
    session.log(`Kafka at ${brokers.join(',')}; topic ${topic} with ${params.partitions} partitions`);
    const absence = await longAbsenceScenario(session, params, { brokers, topic });
    const markdown = `${absenceLines(absence).join('\n')}\n`;
    const file = session.writeResults(
      'absence-',
      { schema: 1, ...session.facts(), params, kafka: { version, topic }, absence },
      markdown,
    );
    console.log(`\n${markdown}`);
    session.log(`results: ${file}`);
  });
}

if (isEntryPoint(import.meta.url)) runEntryPoint('bench absence', main);
