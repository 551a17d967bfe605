// @ts-check
/**
 * `npm run soak`: the gateway's production build (`node dist/main.js`, npm start's flags) for a
 * long run on the embedded Kafka (unless KAFKA_BROKERS): SOAK_STREAMS streams (10,000), targeted,
 * `userIds` and broadcast events at a moderate rate, 1% of the streams reconnecting a minute with
 * their last id, a few slow readers, a second instance taking over half-way. It counts every lost,
 * duplicated and misdelivered delivery per stream, samples each instance every SOAK_SAMPLE_S, and
 * fails (exit 1, one line saying why) on any loss, duplicate or misdelivery, on consumer lag that
 * keeps growing, or on RSS growing after warm-up faster than SOAK_MAX_RSS_SLOPE_MIB_PER_HOUR.
 * Writes bench/results/soak-<time>.json and soak-<time>.svg. See bench/README.md ("The soak").
 *
 * The parts: scenarios/soak.mjs (the run), soak-traffic.mjs (numbered events and their ledger),
 * soak-sampler.mjs (the gateway's /metrics), soak-client.mjs (the streams and what they received),
 * harness/soak-verdict.mjs (the judgement), harness/soak-chart.mjs (the SVG).
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ensureTopics } from '../scripts/kafka-topics.mjs';
import { fileStamp, outputDirs, soakParams } from './harness/params.mjs';
import { fmt, isEntryPoint, runEntryPoint, Session } from './harness/session.mjs';
import { svgChart } from './harness/soak-chart.mjs';
import { GATEWAY_SCRIPT, requireBuilt } from './harness/targets.mjs';
import { soakScenario } from './scenarios/soak.mjs';

/**
 * @param {Session} session
 * @param {import('./harness/params.mjs').SoakParams} params
 * @param {Record<string, string | undefined>} env
 */
async function soak(session, params, env) {
  requireBuilt(GATEWAY_SCRIPT, 'npm run soak');
  session.log(
    `${params.minutes} min, ${fmt(params.streams)} streams over ${params.clients} clients, replay window ` +
      `${params.replayWindowS} s, ${params.restart ? 'a second instance half-way' : 'no restart'}; logs in ${session.workDir}`,
  );
  const kafka = await session.kafka(env);
  await ensureTopics(kafka.brokers, [params.topic], params.partitions);
  const result = await soakScenario(session, params, kafka.brokers);
  const chartFile = join(session.resultsDir, `soak-${session.stamp}.svg`);
  const results = {
    schema: 1,
    kind: 'soak',
    ...session.facts(),
    params: { ...params, resultsDir: session.resultsDirForResults },
    kafka: {
      embedded: kafka.embedded,
      version: kafka.version,
      topic: params.topic,
      partitions: params.partitions,
    },
    passed: result.verdict.passed,
    reasons: result.verdict.reasons,
    ...result,
    chart: basename(chartFile),
    workDir: session.workDir,
  };
  const jsonFile = join(session.resultsDir, `soak-${session.stamp}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  const { deliveries: d } = result;
  const lines = [
    `${fmt(d.received)} of ${fmt(d.expected)} deliveries on ${fmt(d.streams)} streams, ${d.lost} lost, ` +
      `${d.duplicates} duplicated, ${d.misdelivered} misdelivered, ${d.skippedByReset} skipped after ${d.resets} resets`,
    ...result.trends.map(
      (t) =>
        `instance ${t.instance} after warm-up: RSS ${t.rssSlopeMiBPerHour ?? '–'} MiB/hour` +
        `${t.rssJudged ? '' : ' (not judged: too short)'}, lag ${t.lagSlopePerMinute ?? '–'} records/minute ending at ${t.finalLag}`,
    ),
  ];
  const summary = lines.join('; ');
  writeFileSync(
    chartFile,
    svgChart({
      title: `kafka-sse-gateway soak, ${results.startedAt}: ${result.verdict.passed ? 'passed' : 'FAILED'}`,
      subtitle: lines,
      samples: result.samples.map(({ streamsClosed: _c, resets: _r, ...figures }) => figures),
      marks: [
        { atS: params.replayWindowS, label: 'A warm' },
        ...(result.restart.atS === null ? [] : [{ atS: result.restart.atS, label: 'B starts' }]),
        ...(result.restart.bReadyS === null
          ? []
          : [{ atS: result.restart.bReadyS + params.replayWindowS, label: 'B warm' }]),
      ],
    }),
  );
  session.log(`[soak] ${summary}`);
  session.log(`results: ${jsonFile} and ${basename(chartFile)}`);
  return result.verdict.passed
    ? { code: 0, line: `soak passed: ${summary}` }
    : { code: 1, line: `soak failed: ${result.verdict.reasons.join('; ')}` };
}

/** Runs the soak with `env`'s parameters and exits the process. @param {Record<string, string | undefined>} env */
export async function main(env = process.env) {
  const params = soakParams(env);
  const stamp = fileStamp(new Date());
  const session = new Session({
    name: 'soak',
    stamp,
    timeoutS: params.timeoutS,
    ...outputDirs(env, 'soak', stamp),
  });
  return session.run(() => soak(session, params, env));
}

if (isEntryPoint(import.meta.url)) runEntryPoint('soak', main);
