// @ts-check
/**
 * `npm run bench:ceiling`: the cluster's ceiling while every instance reads every record. For 1, 2
 * and 3 gateway instances (`node dist/main.js`, each its own consumer group, as in production) on
 * one Kafka, each holding its share of BENCH_STREAMS streams, it searches the highest event rate
 * the cluster sustains without falling behind, for targeted events, a mix with a few broadcasts,
 * and broadcasts. See bench/README.md ("The ceiling") for what is measured and the knobs.
 *
 * The parts: scenarios/ceiling-cluster.mjs (the gateways and their loads), ceiling-step.mjs (one
 * rate for one step), ceiling-search.mjs (the search and the per-record fit),
 * harness/ceiling-report.mjs (the table).
 */
import { ensureTopics } from '../scripts/kafka-topics.mjs';
import { ceilingMarkdown } from './harness/ceiling-report.mjs';
import { ceilingParams, fileStamp, outputDirs } from './harness/params.mjs';
import { fmt, isEntryPoint, runEntryPoint, Session } from './harness/session.mjs';
import { startCluster, stopCluster } from './scenarios/ceiling-cluster.mjs';
import { findCeiling, fitPerRecord } from './scenarios/ceiling-search.mjs';
import { ceilingMixes } from './scenarios/ceiling-step.mjs';

/**
 * @typedef {import('./harness/params.mjs').MixName} MixName
 * @typedef {import('./scenarios/ceiling-search.mjs').Ceiling} Ceiling
 */

/**
 * @param {Session} session
 * @param {import('./harness/params.mjs').CeilingParams} params
 * @param {Record<string, string | undefined>} env
 */
async function ceiling(session, params, env) {
  const mixTable = ceilingMixes(params);
  session.log(
    `${params.mode} run: ${fmt(params.streams)} streams, instances ${params.instances.join(', ')}, mixes ${params.mixes.join(', ')}, ` +
      `${params.stepS} s steps; logs in ${session.workDir}`,
  );
  const kafka = await session.kafka(env);
  const runs = [];
  /** @type {Partial<Record<MixName, number>>} */
  const lastCeiling = {};
  for (const instances of params.instances) {
    // A topic per instance count: a new gateway warms up from the last REPLAY_WINDOW_MS of its
    // topic, and the records of earlier runs would only slow that down.
    const topic = `${params.topicPrefix}-n${instances}`;
    await ensureTopics(kafka.brokers, [topic], params.partitions);
    session.log(`[n=${instances}] topic ${topic}; starting ${instances} gateway(s)`);
    const cluster = await startCluster(session, params, instances, kafka.brokers, topic);
    /** @type {Partial<Record<MixName, Ceiling>>} */
    const mixes = {};
    try {
      for (const mix of params.mixes) {
        // The previous instance count's ceiling is the best first guess for this one.
        const found = await findCeiling(cluster, mix, lastCeiling[mix] ?? mixTable[mix].startRate);
        mixes[mix] = found;
        if (found.ceilingEventsPerSecond) lastCeiling[mix] = found.ceilingEventsPerSecond;
        session.log(`[n=${instances}] ${mix}: ceiling ${fmt(found.ceilingEventsPerSecond ?? NaN)} events/s`);
      }
    } finally {
      await stopCluster(cluster);
    }
    runs.push({ instances, topic, mixes });
  }

  /** @type {Record<string, ReturnType<typeof fitPerRecord>>} */
  const fit = {};
  for (const mix of params.mixes) {
    const share = mixTable[mix].broadcastPercent / 100;
    fit[mix] = fitPerRecord(
      runs.map((run) => ({
        instances: run.instances,
        micros: run.mixes[mix]?.atCeiling?.clusterCpuMicrosPerEvent ?? NaN,
      })),
      1 - share + share * params.streams,
    );
  }
  const results = {
    schema: 1,
    kind: 'ceiling',
    ...session.facts(),
    note:
      "All instances share this machine's cores with Kafka, the producer and the load clients: more instances add no CPU here. " +
      'The figures show what every-instance-reads-everything costs per record, not what N machines would sustain.',
    params: { ...params, resultsDir: session.resultsDirForResults },
    kafka: { embedded: kafka.embedded, version: kafka.version, partitions: params.partitions },
    runs,
    fit,
    workDir: session.workDir,
  };
  const text = ceilingMarkdown(results);
  const jsonFile = session.writeResults('ceiling-', results, text);
  console.log(`\n${text}`);
  session.log(`results: ${jsonFile} (and .md, ceiling-latest.md)`);
}

/** Runs the ceiling with `env`'s parameters and exits the process. @param {Record<string, string | undefined>} env */
export async function main(env = process.env) {
  const params = ceilingParams(env);
  const stamp = fileStamp(new Date());
  const session = new Session({
    name: 'ceiling',
    stamp,
    timeoutS: params.timeoutS,
    ...outputDirs(env, 'ceiling', stamp),
  });
  return session.run(() => ceiling(session, params, env));
}

if (isEntryPoint(import.meta.url)) runEntryPoint('ceiling', main);
