// @ts-check
/**
 * The ceiling's cluster: N gateways on one topic (each its own consumer group, as in production),
 * each with the load clients holding its share of the streams, warmed up, and each gateway's idle
 * CPU measured so that the steps can subtract it.
 */
import { join } from 'node:path';
import { Load } from '../harness/load.mjs';
import { sleep, TargetProcess } from '../harness/processes.mjs';
import { BenchProducer } from '../harness/producer.mjs';
import { fmt, round } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';
import { GATEWAY_SCRIPT, gatewayEnv, requireBuilt } from '../harness/targets.mjs';
import { drain } from '../harness/traffic.mjs';
import { warmUp } from './warm-up.mjs';

/**
 * @typedef {{ session: import('../harness/session.mjs').Session,
 *   params: import('../harness/params.mjs').CeilingParams, gateways: TargetProcess[], loads: Load[],
 *   producer: BenchProducer, instances: number, idleCpuCores: number[], steps: number }} Cluster
 */

/** Streams of instance `index` of `count`: an even split of u0 … u(streams − 1). @param {number} streams @param {number} index @param {number} count */
function shareOf(streams, index, count) {
  const from = Math.floor((index * streams) / count);
  return { from, count: Math.floor(((index + 1) * streams) / count) - from };
}

/** Deliveries counted by every load of the cluster. @param {Cluster} cluster */
export function delivered(cluster) {
  return cluster.loads.reduce((sum, load) => sum + load.progress.delivered, 0);
}

/** @param {Cluster} cluster */
export function closedByServer(cluster) {
  return cluster.loads.reduce((sum, load) => sum + load.progress.closed, 0);
}

/**
 * Waits until `expected` deliveries arrived; false when nothing arrives for `idleMs` or at `hardMs`.
 * @param {Cluster} cluster @param {number} expected @param {{ idleMs: number, hardMs: number }} limits
 */
export function drainCluster(cluster, expected, limits) {
  return drain(cluster.session, () => delivered(cluster), expected, limits);
}

/**
 * @param {import('../harness/session.mjs').Session} session
 * @param {import('../harness/params.mjs').CeilingParams} params
 * @param {number} instances
 * @param {string[]} brokers
 * @param {string} topic
 * @returns {Promise<Cluster>}
 */
export async function startCluster(session, params, instances, brokers, topic) {
  requireBuilt(GATEWAY_SCRIPT, 'npm run bench:ceiling');
  const log = (/** @type {string} */ line) => session.log(`[n=${instances}] ${line}`);
  /** @type {Cluster} */
  const cluster = {
    session,
    params,
    gateways: [],
    loads: [],
    producer: new BenchProducer(brokers, topic),
    instances,
    idleCpuCores: [],
    steps: 0,
  };
  session.onCleanup(`cluster of ${instances}`, () => stopCluster(cluster));
  await cluster.producer.connect();
  for (let index = 0; index < instances; index++) {
    // The same environment as run.mjs gives its gateway, but the default open rates; only the
    // port differs (PORT=0 each).
    const gateway = await TargetProcess.start({
      name: `gateway ${index + 1} of ${instances}`,
      script: GATEWAY_SCRIPT,
      nodeArgs: params.nodeOptions,
      env: gatewayEnv(
        { brokers, topic, secret: session.secret, heartbeatMs: params.heartbeatMs },
        { REPLAY_MAX_BYTES: String(params.replayMaxBytes) },
      ),
      logFile: join(session.workDir, `gateway-n${instances}-${index + 1}.log`),
      startTimeoutMs: 90_000,
    });
    cluster.gateways.push(gateway);
    log(`gateway ${index + 1} up at ${gateway.url} (pid ${gateway.pid})`);
  }
  let sourceHost = 2;
  for (const [index, gateway] of cluster.gateways.entries()) {
    const share = shareOf(params.streams, index, instances);
    const clients = Math.max(1, Math.ceil(share.count / params.streamsPerClient));
    const load = new Load({
      streams: share.count,
      clients,
      concurrency: params.connectConcurrency,
      secret: session.secret,
      tokenTtlSeconds: Math.max(3600, params.timeoutS * 2),
      firstUser: share.from,
      firstSourceHost: sourceHost,
    });
    sourceHost += clients;
    cluster.loads.push(load);
    await load.open(new URL('/events', gateway.url), Math.max(60_000, share.count * 20), (p) =>
      log(`gateway ${index + 1}: ${fmt(p.opened)} of ${fmt(share.count)} streams open`),
    );
  }
  log(`${fmt(params.streams)} streams open over ${instances} instance(s)`);
  await warmUp({
    streams: params.streams,
    label: `[n=${instances}]`,
    producer: cluster.producer,
    loads: cluster.loads,
    drain: (expected, _what, limits) => drainCluster(cluster, expected, limits),
  });
  // What each gateway spends with nothing to deliver (fetch loop, timers, heartbeats): at low
  // rates it would otherwise dominate the per-event cost.
  const before = cluster.gateways.map((gateway) => gateway.cpuSeconds());
  const t0 = monotonicMs();
  await sleep(params.idleS * 1000);
  const wall = (monotonicMs() - t0) / 1000;
  cluster.idleCpuCores = cluster.gateways.map(
    (gateway, i) => (gateway.cpuSeconds() - (before[i] ?? 0)) / wall,
  );
  log(`idle CPU per gateway: ${cluster.idleCpuCores.map((c) => `${round(c * 100, 1)}%`).join(', ')}`);
  return cluster;
}

/** @param {Cluster} cluster */
export async function stopCluster(cluster) {
  await Promise.all(cluster.loads.map((load) => load.close()));
  await Promise.all(cluster.gateways.map((gateway) => gateway.stop()));
  await cluster.producer.disconnect().catch(() => undefined);
  cluster.loads = [];
  cluster.gateways = [];
}
