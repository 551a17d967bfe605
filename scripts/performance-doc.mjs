// @ts-check
/**
 * `npm run docs:performance`: writes docs/performance.md from the newest standard `npm run bench`
 * result in bench/results/, so that the figures users read are the ones measured, never typed.
 * A figure the result lacks (an older or newer format, a scenario left out) shows as "–".
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestResult, newestStandardRun, RESULTS_DIR } from './bench-results.mjs';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PERFORMANCE_DOC = join(projectRoot, 'docs', 'performance.md');
/** The newest soak's chart, copied beside the page under a name that carries no date. */
export const SOAK_CHART = join(projectRoot, 'docs', 'soak.svg');

/** The newest `npm run soak` result, or undefined. */
export const newestSoak = () =>
  newestResult(
    (name) => name.startsWith('soak-'),
    (data) => at(data, 'kind') === 'soak',
  );

/** @param {unknown} value @returns {value is number} */
const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

/**
 * The value at a dotted path of nested objects, or undefined.
 * @param {unknown} object
 * @param {string} path
 * @returns {unknown}
 */
function at(object, path) {
  let value = object;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = /** @type {Record<string, unknown>} */ (value)[key];
  }
  return value;
}

/** @param {unknown} value @param {number} [digits] */
function num(value, digits = 0) {
  if (!isNumber(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const FORMATS = {
  count: (/** @type {unknown} */ value) => num(value),
  perSecond: (/** @type {unknown} */ value) => num(value),
  bytes: (/** @type {unknown} */ value) =>
    !isNumber(value)
      ? '–'
      : value >= 2 ** 20
        ? `${num(value / 2 ** 20, 1)} MiB`
        : `${num(value / 1024, 1)} KiB`,
  micros: (/** @type {unknown} */ value) => (isNumber(value) ? `${num(value, 1)} µs` : '–'),
  ms: (/** @type {unknown} */ value) => (isNumber(value) ? `${num(value, value >= 100 ? 0 : 1)} ms` : '–'),
  seconds: (/** @type {unknown} */ value) => (isNumber(value) ? `${num(value, 1)} s` : '–'),
};

/** @param {unknown} a @param {unknown} b */
function ratio(a, b) {
  return isNumber(a) && isNumber(b) && b !== 0 ? `${num(a / b, 2)}×` : '–';
}

/**
 * Scenario, figure, where the gateway's and the raw floor's values are (under `gateway` and
 * `floors.rawSse`, or `wide.gateway` and `wide.raw`), and how to write them.
 * @type {Array<[scenario: string, figure: string, path: string, format: keyof typeof FORMATS, where?: 'wide']>}
 */
const ROWS = [
  ['idle, every stream open', 'memory (RSS) per stream', 'idle.rssPerStreamBytes', 'bytes'],
  ['idle, every stream open', 'JS heap per stream', 'idle.heapPerStreamBytes', 'bytes'],
  ['idle, every stream open', 'streams opened per second', 'idle.connectsPerSecond', 'perSecond'],
  ['targeted: each event for one user', 'deliveries per second', 'targeted.deliveriesPerSecond', 'perSecond'],
  ['targeted: each event for one user', 'CPU per delivery', 'targeted.targetCpuMicrosPerDelivery', 'micros'],
  ['broadcast to every stream', 'deliveries per second', 'broadcast.deliveriesPerSecond', 'perSecond'],
  ['broadcast to every stream', 'CPU per delivery', 'broadcast.targetCpuMicrosPerDelivery', 'micros'],
  ['one broadcast, nothing queued', 'latency to the median stream', 'fanout.latency.p50Ms', 'ms'],
  ['one broadcast, nothing queued', 'latency to the 99th percentile', 'fanout.latency.p99Ms', 'ms'],
  ['steady mix, half of capacity', 'latency p50', 'steadyModerate.latency.p50Ms', 'ms'],
  ['steady mix, half of capacity', 'latency p99', 'steadyModerate.latency.p99Ms', 'ms'],
  [
    'topic of many partitions, targeted',
    'deliveries per second',
    'targeted.deliveriesPerSecond',
    'perSecond',
    'wide',
  ],
  ['topic of many partitions, targeted', 'event id length (characters)', 'idLength', 'count', 'wide'],
];

/**
 * docs/performance.md for one result of `npm run bench` (or for none) and one of `npm run soak`.
 * @param {unknown} result the parsed JSON, or undefined
 * @param {unknown} [soak] the parsed JSON of the soak, or undefined
 * @returns {string}
 */
export function performanceDoc(result, soak) {
  const lines = [
    '# Performance',
    '',
    '<!-- Written by `npm run docs:performance` from the newest standard `npm run bench` result in',
    '     bench/results/. Do not edit by hand: run the bench, then the command. -->',
    '',
  ];
  if (result === undefined) {
    lines.push('No benchmark result yet: run `npm run bench`, then `npm run docs:performance`.', '');
    lines.push(...soakSection(soak));
    return lines.join('\n');
  }
  const streams = at(result, 'params.streams');
  const cpus = at(result, 'machine.cpus');
  const model = at(result, 'machine.cpuModel');
  const node = at(result, 'node');
  const flags = at(result, 'params.nodeOptions');
  const partitions = at(result, 'wide.gateway.partitions') ?? at(result, 'params.widePartitions');
  lines.push(
    `Measured by \`npm run bench\` with ${num(streams)} streams on ${num(cpus)} × ${typeof model === 'string' ? model : 'unknown CPU'}` +
      ` cores, which Kafka, the load clients and the gateway share; Node ${typeof node === 'string' ? node.replace(/^v/, '') : '–'}` +
      `${Array.isArray(flags) && flags.length > 0 ? ` with \`${flags.join(' ')}\`` : ''}. The same run measures a`,
    'floor beside the gateway: a raw Node `http` server fed by kafkajs, the least a Node process',
    'can do to turn the same records into the same streams. The ratio is gateway ÷ floor.',
    '',
    '| scenario | figure | gateway | raw floor | ratio |',
    '| --- | --- | --: | --: | --: |',
  );
  for (const [scenario, figure, path, format, where] of ROWS) {
    const gateway = at(result, where === 'wide' ? `wide.gateway.${path}` : `gateway.${path}`);
    const floor = at(result, where === 'wide' ? `wide.raw.${path}` : `floors.rawSse.${path}`);
    const label =
      where === 'wide' && isNumber(partitions) ? scenario.replace('many', num(partitions)) : scenario;
    const write = FORMATS[format];
    lines.push(`| ${label} | ${figure} | ${write(gateway)} | ${write(floor)} | ${ratio(gateway, floor)} |`);
  }
  lines.push('');
  const nest = at(result, 'floors.nestSse.idle.rssPerStreamBytes');
  if (isNumber(nest)) {
    const gateway = at(result, 'gateway.idle.rssPerStreamBytes');
    lines.push(
      `An idle stream on a bare NestJS \`@Sse()\` route takes ${FORMATS.bytes(nest)} (the gateway ${FORMATS.bytes(gateway)},`,
      `${ratio(gateway, nest)}): most of a stream's memory is the framework's, not the gateway's.`,
      '',
    );
  }
  lines.push(...platformParagraph(result));
  const storm = at(result, 'storm');
  if (storm && typeof storm === 'object') {
    lines.push(
      '**Reconnect storm.** ' +
        `${num(at(storm, 'streams'))} streams resume at once from an id a minute old, with ` +
        `${num(at(storm, 'bufferedRecords'))} records in the replay window: every stream is live again after ` +
        `${FORMATS.seconds(at(storm, 'liveSeconds'))}; ${num(at(storm, 'refusedOpens'))} opens were told to retry later ` +
        `(429 with \`Retry-After\`), and the event loop's p99 delay was ${FORMATS.ms(at(storm, 'p99EventLoopDelayMs'))}.`,
      '',
    );
  }
  lines.push(...absenceParagraph(at(result, 'absence')));
  const batch = at(result, 'floors.kafkaConsume.eachBatch.recordsPerSecond');
  if (isNumber(batch)) {
    lines.push(
      `**Reading Kafka.** A plain kafkajs consumer reads ${num(batch)} records/s from the same broker;`,
      `the gateway's targeted scenario, ${num(at(result, 'gateway.targeted.eventsPerSecond'))} events/s, is bounded by delivery, not by reading.`,
      '',
    );
  }
  lines.push(...soakSection(soak));
  lines.push(
    '## How to read these figures',
    '',
    '- A single instance is one Node process: one core of main thread. More instances add',
    '  connections and deliveries, not records read: see [scaling.md](scaling.md).',
    '- On a machine of two shared cores, runs differ from one another by up to about 1.5× in the',
    "  floor's own figures: read the ratios, not the absolute rates, and compare runs of one machine.",
    '- Throughput scenarios keep a queue of events ahead of the clients, so their latency is mostly',
    '  that queue; the latency below saturation is the steady mix at half of capacity.',
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm run bench               # about 10 minutes: results in bench/results/',
    'npm run soak                # 60 minutes: bench/results/soak-<time>.json and .svg',
    'npm run docs:performance    # this page, from the newest standard result and soak',
    '```',
    '',
    '`bench/README.md` explains every scenario and figure; `npm run bench:smoke` is the short version',
    'the test suite runs (no timing assertions).',
    '',
  );
  return lines.join('\n');
}

/**
 * A chart without the time of its run: docs speak of the figures, not of when they were taken.
 * @param {string} svg
 */
export function undated(svg) {
  return svg.replace(/,? ?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '');
}

/**
 * Nest's Fastify adapter beside its Express one, both a bare `@Sse()` route, and why the gateway
 * runs on the one it does.
 * @param {unknown} result
 * @returns {string[]}
 */
function platformParagraph(result) {
  const express = at(result, 'floors.nestSse.idle');
  const fastify = at(result, 'floors.nestFastifySse.idle');
  const [expressRss, fastifyRss] = [at(express, 'rssPerStreamBytes'), at(fastify, 'rssPerStreamBytes')];
  const [expressOpens, fastifyOpens] = [at(express, 'connectsPerSecond'), at(fastify, 'connectsPerSecond')];
  if (!isNumber(expressRss) || !isNumber(fastifyRss) || !isNumber(expressOpens) || !isNumber(fastifyOpens))
    return [];
  const verdict =
    fastifyOpens < expressOpens
      ? 'The gateway runs on Express: how fast streams open decides how soon a fleet is whole again ' +
        'after a deploy or an outage, and Fastify gives up more there than it saves in memory.'
      : 'Fastify is ahead on both here: moving the gateway to it is worth measuring with the whole gateway.';
  return [
    `**HTTP platform.** The same bare route on Nest's Fastify adapter takes ${FORMATS.bytes(fastifyRss)} a stream ` +
      `(${ratio(fastifyRss, expressRss)} the Express route's) but opens ${num(fastifyOpens)} streams a second ` +
      `(${ratio(fastifyOpens, expressOpens)} the Express route's ${num(expressOpens)}). ${verdict}`,
    '',
  ];
}

/**
 * Every stream away while the replay store overflows, then back at once: caught up from Kafka.
 * @param {unknown} absence
 * @returns {string[]}
 */
function absenceParagraph(absence) {
  if (!absence || typeof absence !== 'object') return [];
  const a = (/** @type {string} */ path) => at(absence, path);
  const minutes = isNumber(a('absenceS')) ? num(/** @type {number} */ (a('absenceS')) / 60) : '–';
  return [
    `**Long absence.** ${num(a('streams'))} streams leave; ${minutes} minutes of targeted traffic ` +
      `(${num(a('absentRecords'))} records, stamped over those minutes and produced at once) overflow a replay store of ` +
      `${FORMATS.bytes(a('replayMaxBytes'))}; then every stream comes back at once with its last id and is caught up from Kafka. ` +
      `All open after ${FORMATS.seconds(a('openSeconds'))} (${num(a('refusedOpens'))} opens told to retry later), ` +
      `every event delivered after ${FORMATS.seconds(a('caughtUpSeconds'))}, all live after ${FORMATS.seconds(a('liveSeconds'))}: ` +
      `${num(a('lost'))} lost, ${num(a('duplicated'))} duplicated, ${num(a('misdelivered'))} misdelivered, ${num(a('resets'))} resets. ` +
      `The gateway spent ${FORMATS.seconds(a('gatewayCpuSeconds'))} of CPU and peaked at ${FORMATS.bytes(a('peakRssBytes'))} ` +
      `of RSS, and read ${num(a('scannedPerRecord'), 2)} records from Kafka per record of the absence ` +
      `(${num(a('catchUpsStarted'))} passes started, ${num(a('catchUpsJoined'))} resumes joined one). ` +
      `A fresh instance warming the same window is ready after ${FORMATS.seconds(a('warmStart.readySeconds'))}.`,
    '',
  ];
}

/**
 * The newest hour-long soak: what it did, what it lost, how memory and lag moved, its chart.
 * @param {unknown} soak
 * @returns {string[]}
 */
function soakSection(soak) {
  if (soak === undefined) return [];
  const d = (/** @type {string} */ path) => at(soak, `deliveries.${path}`);
  const p = (/** @type {string} */ path) => at(soak, `params.${path}`);
  const list = (/** @type {string} */ path) =>
    /** @type {unknown[]} */ (Array.isArray(at(soak, path)) ? at(soak, path) : []);
  const trendLines = list('trends').map((trend) => {
    const live = at(trend, 'heapLiveSlopeMiBPerHour');
    return (
      `- instance ${String(at(trend, 'instance'))}: RSS ${num(at(trend, 'rssSlopeMiBPerHour'), 2)} MiB an hour after warm-up` +
      `${at(trend, 'rssJudged') === false ? ' (too short a stretch to judge)' : ''}` +
      `${isNumber(live) ? `, the live heap ${num(live, 2)} MiB an hour` : ''}; consumer lag ` +
      `${num(at(trend, 'lagSlopePerMinute'), 1)} records a minute, ${num(at(trend, 'finalLag'))} at the end`
    );
  });
  const flags = p('nodeOptions');
  return [
    '## The soak',
    '',
    `\`npm run soak\` ran the production build` +
      `${Array.isArray(flags) && flags.length > 0 ? ` (\`node ${flags.join(' ')}\`)` : ''}` +
      ` for ${num(p('minutes'))} minutes on ${num(d('streams'))} streams: ` +
      'events for one user, for several users and for everyone, every one numbered; ' +
      `${num(p('reconnectPercentPerMinute'))}% of the streams reconnecting a minute with their last id, ${num(p('slowStreams'))} ` +
      `slow readers${p('restart') === false ? '' : ', and a second instance taking over half-way as in a rolling deploy'}. ` +
      (at(soak, 'passed') === true ? 'It passed.' : `It failed: ${list('reasons').join('; ')}.`),
    '',
    `- ${num(d('received'))} of ${num(d('expected'))} deliveries: ${num(d('lost'))} lost, ${num(d('duplicates'))} duplicated, ` +
      `${num(d('misdelivered'))} delivered to the wrong user`,
    ...trendLines,
    '',
    'RSS also counts heap that V8 keeps committed but free until the heap nears its bound; the live heap ' +
      '(in use just after a major collection) is what a leak raises ([operations.md](operations.md#memory)).',
    '',
    '![RSS, heap, event-loop delay, consumer lag and open streams over the soak](soak.svg)',
    '',
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const newest = newestStandardRun();
  const soak = newestSoak();
  writeFileSync(PERFORMANCE_DOC, performanceDoc(newest?.data, soak?.data));
  const chart = at(soak?.data, 'chart');
  if (typeof chart === 'string')
    writeFileSync(SOAK_CHART, undated(readFileSync(join(RESULTS_DIR, chart), 'utf8')));
  else rmSync(SOAK_CHART, { force: true });
  console.log(
    `docs/performance.md written from ${newest?.file ?? 'no result'} and ${soak?.file ?? 'no soak'}`,
  );
}
