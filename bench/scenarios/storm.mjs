// @ts-check
/**
 * A reconnect storm, for the gateway alone: it starts on a topic holding 15 minutes of mixed
 * traffic (records stamped over the window, so the replay buffer holds them once warm), then every
 * stream arrives at once, resuming from an id one minute old, at the default open rate limit.
 * Reports how long until every stream is open and until every one is live (has a broadcast sent
 * after the storm), and the gateway's worst event-loop delay meanwhile.
 */
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { Load } from '../harness/load.mjs';
import { scrapeMetrics, total } from '../harness/metrics.mjs';
import { TargetProcess } from '../harness/processes.mjs';
import { BenchProducer, broadcastRecord, targetedRecord } from '../harness/producer.mjs';
import { fmt, round } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';
import { GATEWAY_SCRIPT, gatewayEnv, gatewayLogPosition } from '../harness/targets.mjs';
import { drain } from '../harness/traffic.mjs';

const { Kafka, logLevel } = kafkajs;

/**
 * @param {import('../harness/session.mjs').Session} session
 * @param {import('../harness/params.mjs').BenchParams} params
 * @param {{ brokers: string[], topic: string }} storm
 */
export async function stormScenario(session, params, storm) {
  const label = '[gateway storm]';
  const streams = params.streams;
  const producer = new BenchProducer(storm.brokers, storm.topic);
  await producer.connect();
  const disconnect = session.onCleanup('storm producer', () => producer.disconnect());
  try {
    const now = Date.now();
    const windowMs = 15 * 60_000;
    const total = Math.round(params.stormRate * (windowMs / 1000));
    session.log(
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
    const lastEventId = await idOneMinuteOld(storm, now);
    const gateway = await TargetProcess.start({
      name: 'the gateway (storm)',
      script: GATEWAY_SCRIPT,
      nodeArgs: params.nodeOptions,
      // The default open rates: they are what spreads the storm.
      env: gatewayEnv({ ...storm, secret: session.secret, heartbeatMs: params.heartbeatMs }),
      logFile: join(session.workDir, 'gateway-storm.log'),
      startTimeoutMs: 180_000,
    });
    const stopGateway = session.onCleanup(`${label} process`, () => gateway.stop());
    const load = new Load({
      streams,
      clients: params.clients,
      concurrency: params.connectConcurrency,
      secret: session.secret,
      tokenTtlSeconds: Math.max(3600, params.timeoutS * 2),
    });
    const closeLoad = session.onCleanup(`${label} load clients`, () => load.close());
    try {
      const metricsBefore = await stormCounters(gateway.url);
      await gateway.loopDelayStart();
      const started = monotonicMs();
      await load.open(
        new URL('/events', gateway.url),
        Math.max(120_000, streams * 30),
        (p) =>
          session.log(
            `${label} ${fmt(p.opened)} of ${fmt(streams)} open, ${fmt(p.refused)} told to retry later`,
          ),
        { lastEventId, concurrency: Math.ceil(streams / params.clients) },
      );
      const openSeconds = (monotonicMs() - started) / 1000;
      await load.expect('bench.live');
      await producer.send([broadcastRecord('bench.live', 0)]);
      const live = await drain(session, () => load.progress.delivered, streams, {
        idleMs: 30_000,
        hardMs: 120_000,
        label: `${label} live`,
      });
      const liveSeconds = (monotonicMs() - started) / 1000;
      const loop = await gateway.loopDelayStop();
      const metricsAfter = await stormCounters(gateway.url);
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
      session.log(
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

/**
 * The id of a stream that has seen everything up to one minute before `now`, written by the
 * gateway's own cursor code.
 * @param {{ brokers: string[], topic: string }} storm
 * @param {number} now
 */
async function idOneMinuteOld(storm, now) {
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
  return cursor.format([storm.topic]);
}

/** The counters of the gateway's /metrics the storm reads. @param {string} url */
async function stormCounters(url) {
  const samples = await scrapeMetrics(`${url}/metrics`);
  return {
    replays: total(samples, 'sse_replays_total'),
    replayedEvents: total(samples, 'sse_replayed_events_total'),
    resets: total(samples, 'sse_resets_total'),
  };
}
