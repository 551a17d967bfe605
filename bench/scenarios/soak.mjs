// @ts-check
/**
 * The soak: the gateway's production build for a long run, as production uses it (management
 * port, default stream lifetime and open rates), with a short replay window so that its warm-up
 * ends early. Every stream is opened before the traffic starts and comes back with its last id
 * whenever it is closed; events are numbered (soak-traffic.mjs); every SOAK_SAMPLE_S each live
 * instance is sampled (soak-sampler.mjs).
 *
 * The restart in the middle is a rolling one, to a second instance: B starts on the same topic
 * (it warms up from the replay window by timestamp), new connections go to B (as a load balancer
 * would send them once B is ready), then A gets SIGTERM, drains, and ends its streams with a
 * resume point; they come back on B with their last id. That is how an instance is restarted
 * without downtime, and it proves that ids mean the same on every instance. (A restart in place
 * would only add refused connections while the port is closed.)
 */
import { join } from 'node:path';
import { Load } from '../harness/load.mjs';
import { sleep, TargetProcess } from '../harness/processes.mjs';
import { BenchProducer } from '../harness/producer.mjs';
import { asError, fmt } from '../harness/session.mjs';
import { countDeliveries, trends, verdict } from '../harness/soak-verdict.mjs';
import { monotonicMs } from '../harness/stats.mjs';
import { GATEWAY_SCRIPT, gatewayEnv } from '../harness/targets.mjs';
import { drain, SendQueue } from '../harness/traffic.mjs';
import { sampleGateway } from './soak-sampler.mjs';
import { SoakTraffic, spreadUsers } from './soak-traffic.mjs';

/**
 * @typedef {import('../harness/session.mjs').Session} Session
 * @typedef {import('../harness/params.mjs').SoakParams} SoakParams
 * @typedef {import('./soak-sampler.mjs').SoakSample} SoakSample
 * @typedef {import('../soak-client.mjs').SoakProgress} SoakProgress
 * @typedef {import('../soak-client.mjs').StreamReport} StreamReport
 */

/** Sums a field of every soak client's progress. @param {Load} load @param {keyof SoakProgress} field */
function sum(load, field) {
  return load.clients.reduce(
    (total, client) => total + Number(/** @type {SoakProgress} */ (client.progress)[field] ?? 0),
    0,
  );
}

/** @param {Load} load @param {object} command @param {string} answer */
function tellClients(load, command, answer) {
  return Promise.all(load.clients.map((client) => client.ask(command, answer, 60_000)));
}

/**
 * @param {Session} session
 * @param {SoakParams} params
 * @param {string[]} brokers
 */
export async function soakScenario(session, params, brokers) {
  /** @type {Array<{ name: string, gateway: TargetProcess, stop: () => Promise<unknown>, stopping?: boolean }>} */
  const live = [];
  const startGateway = async (/** @type {string} */ name) => {
    const gateway = await TargetProcess.start({
      name: `gateway ${name}`,
      script: GATEWAY_SCRIPT,
      nodeArgs: params.nodeOptions,
      env: gatewayEnv(
        { brokers, topic: params.topic, secret: session.secret, heartbeatMs: params.heartbeatMs },
        {
          MANAGEMENT_PORT: '0',
          REPLAY_WINDOW_MS: String(params.replayWindowS * 1000),
          REPLAY_MAX_BYTES: String(params.replayMaxBytes),
          SSE_MAX_LIFETIME_MS: String(params.streamLifetimeS * 1000),
        },
      ),
      logFile: join(session.workDir, `gateway-${name}.log`),
      startTimeoutMs: 180_000,
    });
    const stop = session.onCleanup(`gateway ${name}`, () => gateway.stop());
    live.push({ name, gateway, stop });
    session.log(
      `[soak] gateway ${name} up at ${gateway.url}, metrics at ${gateway.managementUrl} (pid ${gateway.pid})`,
    );
    return gateway;
  };

  const first = await startGateway('A');
  const producer = new BenchProducer(brokers, params.topic);
  await producer.connect();
  session.onCleanup('soak producer', () => producer.disconnect());
  const slowUsers = spreadUsers(params.streams, params.slowStreams);
  const load = new Load({
    streams: params.streams,
    clients: params.clients,
    concurrency: params.connectConcurrency,
    secret: session.secret,
    tokenTtlSeconds: Math.round(params.minutes * 60 + 7200),
    script: 'soak-client.mjs',
  });
  const closeLoad = session.onCleanup('soak clients', () => load.close());
  await load.open(
    new URL('/events', first.url),
    Math.max(60_000, params.streams * 20),
    (p) =>
      session.log(
        `[soak] ${fmt(p.opened)} of ${fmt(params.streams)} streams open, ${fmt(p.refused)} told to retry later`,
      ),
    {
      command: {
        slowUsers,
        reconnectPercentPerMinute: params.reconnectPercentPerMinute,
        slowPauseS: params.slowPauseS,
      },
    },
  );
  // Every stream subscribed end to end before the first numbered event.
  await load.expect('soak.warm');
  await producer.send([
    { key: null, value: JSON.stringify({ type: 'soak.warm', data: null, broadcast: true }) },
  ]);
  if (
    !(await drain(session, () => load.progress.delivered, params.streams, {
      idleMs: 30_000,
      hardMs: 120_000,
    }))
  )
    throw new Error('[soak] the warm-up broadcast did not reach every stream');
  await load.expect('soak');
  await tellClients(load, { cmd: 'start' }, 'started');

  const sends = new SendQueue(producer);
  const traffic = new SoakTraffic(params, slowUsers, sends);
  /** @type {SoakSample[]} */
  const samples = [];
  let failedScrapes = 0;
  const t0 = monotonicMs();
  const elapsedS = () => (monotonicMs() - t0) / 1000;
  const sampleAll = () =>
    Promise.all(
      live.map(({ name, gateway }) =>
        sampleGateway(gateway, name, elapsedS()).then(
          (sample) => void samples.push(sample),
          () => void failedScrapes++,
        ),
      ),
    );
  const restart = {
    atS: /** @type {number | null} */ (null),
    bReadyS: /** @type {number | null} */ (null),
    aStoppedS: /** @type {number | null} */ (null),
  };
  const rollOver = async () => {
    restart.atS = elapsedS();
    session.log(`[soak] ${(restart.atS / 60).toFixed(1)} min: starting gateway B, then stopping A`);
    const second = await startGateway('B');
    restart.bReadyS = elapsedS();
    const url = new URL(second.url);
    await tellClients(load, { cmd: 'target', host: url.hostname, port: Number(url.port) }, 'targeted');
    const a = /** @type {(typeof live)[number]} */ (live.find((item) => item.name === 'A'));
    a.stopping = true;
    await a.stop();
    live.splice(live.indexOf(a), 1);
    restart.aStoppedS = elapsedS();
    session.log(
      `[soak] gateway A stopped after ${((restart.aStoppedS - restart.atS) / 60).toFixed(1)} min of roll-over`,
    );
  };

  session.log(
    `[soak] ${fmt(params.streams)} streams open; ${params.minutes} min of traffic: ${params.targetedRate} targeted, ` +
      `${params.userIdsRate} userIds and ${params.broadcastRate} broadcast events/s`,
  );
  const endS = params.minutes * 60;
  /** @type {Promise<void> | undefined} */
  let rolling;
  /** @type {unknown} */
  let rollError;
  let nextSampleS = 0;
  let nextLineS = 30;
  for (let now = elapsedS(); now < endS; now = elapsedS()) {
    session.checkStopping();
    sends.check();
    if (rollError) throw asError(rollError);
    const gone = live.find(({ gateway, stopping }) => !stopping && !gateway.running);
    if (gone)
      throw new Error(`gateway ${gone.name} exited during the soak; its log: ${gone.gateway.logFile}`);
    traffic.tick();
    if (now >= nextSampleS) {
      nextSampleS += params.sampleS;
      void sampleAll();
    }
    if (params.restart && !rolling && now >= endS / 2)
      rolling = rollOver().catch((/** @type {unknown} */ err) => void (rollError = err));
    if (now >= nextLineS) {
      nextLineS += 30;
      const latest = samples.at(-1);
      session.log(
        `[soak] ${(now / 60).toFixed(1)}/${params.minutes} min: ${fmt(sum(load, 'connected'))} streams connected, ` +
          `${fmt(sum(load, 'unique'))} of ${fmt(traffic.expectedDeliveries)} deliveries, ` +
          `${sum(load, 'duplicates')} duplicates, ${sum(load, 'resets')} resets; ` +
          (latest
            ? `gateway ${latest.instance} RSS ${fmt(latest.rssBytes / 2 ** 20)} MiB, lag ${fmt(latest.lag)}`
            : ''),
      );
    }
    await sleep(100);
  }
  await rolling;
  if (rollError) throw asError(rollError);
  await sends.settle();
  const trafficEndS = elapsedS();
  session.log('[soak] traffic over; every stream reads again and stays; draining');
  await tellClients(load, { cmd: 'settle' }, 'settled');
  // Streams on their way back (a reconnect on purpose, a slow reader dropped) are connected again
  // before the last deliveries are awaited and the last samples taken; one that cannot come back
  // shows as loss.
  await drain(session, () => sum(load, 'connected'), params.streams, {
    idleMs: params.drainS * 1000,
    hardMs: params.drainS * 1000,
    label: '[soak] streams connected again',
  });
  await drain(session, () => sum(load, 'unique'), traffic.expectedDeliveries, {
    idleMs: params.drainS * 1000,
    hardMs: params.drainS * 3000,
    label: '[soak] final deliveries',
  });
  await sampleAll();
  const reports = /** @type {Array<{ streams: StreamReport[] }>} */ (
    await tellClients(load, { cmd: 'report' }, 'report')
  ).flatMap((answer) => answer.streams);
  const { histogram } = await load.stats();
  const clients = {
    plannedReconnects: sum(load, 'plannedReconnects'),
    serverCloses: sum(load, 'serverCloses'),
    refusals: reports.reduce((total, report) => total + report.refusals, 0),
    connectErrors: reports.reduce((total, report) => total + report.errors, 0),
  };
  await closeLoad();
  for (const { stop } of [...live]) await stop();

  const counts = countDeliveries(traffic.ledger, reports);
  const segments = [
    { instance: 'A', warmUpEndS: params.replayWindowS, endS: restart.atS ?? Infinity },
    ...(restart.bReadyS === null
      ? []
      : [{ instance: 'B', warmUpEndS: restart.bReadyS + params.replayWindowS, endS: Infinity }]),
  ];
  const instanceTrends = trends(samples, segments, params);
  return {
    verdict: verdict(counts, instanceTrends, params),
    deliveries: counts,
    trends: instanceTrends,
    produced: traffic.produced,
    trafficSeconds: Math.round(trafficEndS),
    restart,
    segments,
    clients,
    latency: histogram.summary(),
    failedScrapes,
    samples,
  };
}

/** @typedef {Awaited<ReturnType<typeof soakScenario>>} SoakResult */
