// @ts-check
/**
 * `npm run simulate`: where "every instance reads every record" stops, and what sharing the
 * partitions out changes, from the costs the benchmark measured (docs/scaling.md explains it).
 *
 *   npm run simulate
 *   npm run simulate -- --users=200000 --events=50000 --broadcasts=1
 *   npm run simulate -- --record-us=20 --delivery-us=15 --partitions=60 --svg=/tmp/chart.svg
 *
 * Costs come from the newest standard `npm run bench` result in bench/results/ (targeted CPU per delivery,
 * broadcast CPU per delivery, RSS per stream) and, when there is one, the newest
 * `npm run bench:ceiling` result (how the targeted cost splits into per record and per delivery);
 * flags (or SIM_* environment variables, e.g. SIM_RECORD_US) override each; without results files
 * the documented defaults below are used, so it runs from a clean clone. Prints the costs used,
 * a table of scenarios and the decision, and writes docs/scaling-chart.svg.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestResult, newestStandardRun } from './bench-results.mjs';
import {
  brokerEgress,
  clusterCpu,
  everyInstanceCeiling,
  instancesNeeded,
  perInstance,
  rebalanceChurn,
  windowLimitedRate,
} from './scaling-model.mjs';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Defaults, from bench/results/2026-11-24T09-48-40Z.json (git 081e81b, 2 cores): targeted 42.2 µs
 * per delivery (one delivery per record, so per record + per delivery), broadcast 3.1 µs per
 * delivery, 35.1 KiB RSS per idle stream. The split of the 42.2 µs between reading a record and
 * delivering it is an assumption (60 / 40) until a ceiling run measures it.
 */
const DEFAULTS = {
  'targeted-us': 42.2,
  'record-share': 0.6,
  'broadcast-delivery-us': 3.1,
  'connection-bytes': 35_988,
  // A buffered event: the record's value (~100 B here), its id text and the index entries.
  'buffered-event-bytes': 400,
  // A targeted record of ~100 B of JSON with its key and Kafka's per-record overhead in a batch.
  'record-bytes': 160,
  'broadcast-bytes': 200,
  broadcasts: 1,
  partitions: 120,
  'target-utilisation': 0.7,
  'streams-max': 20_000,
  'window-s': 900,
  'replay-max-bytes': 64 * 2 ** 20,
  'max-instances': 1000,
};
/** @typedef {keyof typeof DEFAULTS | 'record-us' | 'delivery-us' | 'broadcast-record-us' | 'users' | 'events' | 'svg'} Option */

/** @returns {Map<string, string>} */
function cliOptions() {
  /** @type {Map<string, string>} */
  const options = new Map();
  for (const arg of process.argv.slice(2)) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!match?.[1] || match[2] === undefined) throw new Error(`Unknown argument ${arg}: use --name=value`);
    options.set(match[1], match[2]);
  }
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('SIM_') || value === undefined) continue;
    const option = name.slice(4).toLowerCase().replace(/_/g, '-');
    if (!options.has(option)) options.set(option, value);
  }
  return options;
}

/**
 * The figures read from results files, all optional (older or partial runs lack some).
 * @typedef {{ gateway?: { targeted?: { targetCpuMicrosPerDelivery?: number },
 *   broadcast?: { targetCpuMicrosPerDelivery?: number }, idle?: { rssPerStreamBytes?: number } } }} BenchResult
 * @typedef {{ params?: { mode?: string }, fit?: { targeted?: { perRecordMicros?: number } | null } }} CeilingResult
 */

/** @param {unknown} value */
const positive = (value) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;

function resolveInputs() {
  const options = cliOptions();
  /** @type {Record<string, string>} */
  const sources = {};
  const bench = newestStandardRun();
  const ceiling = newestResult((name) => name.startsWith('ceiling-'));
  /** @param {string} name @param {number | undefined} measured @param {string} from */
  const pick = (name, measured, from) => {
    const given = options.get(name);
    if (given !== undefined) {
      const value = Number(given);
      if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}=${given}: expected a number`);
      sources[name] = 'flag';
      return value;
    }
    if (measured !== undefined) {
      sources[name] = from;
      return measured;
    }
    sources[name] = 'default';
    return /** @type {Record<string, number>} */ (DEFAULTS)[name] ?? NaN;
  };
  const gateway = /** @type {BenchResult | undefined} */ (bench?.data)?.gateway;
  const targetedUs = pick(
    'targeted-us',
    positive(gateway?.targeted?.targetCpuMicrosPerDelivery),
    bench?.file ?? '',
  );
  const ceilingResult = /** @type {CeilingResult | undefined} */ (ceiling?.data);
  // A smoke run's split is noise (a few seconds, a few hundred streams): only a full run counts.
  const fitRecordUs =
    ceilingResult?.params?.mode === 'full'
      ? positive(ceilingResult.fit?.targeted?.perRecordMicros)
      : undefined;
  const recordUs = pick(
    'record-us',
    fitRecordUs !== undefined ? Math.min(fitRecordUs, targetedUs) : targetedUs * DEFAULTS['record-share'],
    fitRecordUs !== undefined ? (ceiling?.file ?? '') : `${DEFAULTS['record-share']} × targeted-us (assumed)`,
  );
  const costs = {
    recordMicros: recordUs,
    deliveryMicros: pick('delivery-us', Math.max(0, targetedUs - recordUs), 'targeted-us − record-us'),
    broadcastRecordMicros: pick('broadcast-record-us', recordUs, 'record-us'),
    broadcastDeliveryMicros: pick(
      'broadcast-delivery-us',
      positive(gateway?.broadcast?.targetCpuMicrosPerDelivery),
      bench?.file ?? '',
    ),
    connectionBytes: pick('connection-bytes', positive(gateway?.idle?.rssPerStreamBytes), bench?.file ?? ''),
    bufferedEventBytes: pick('buffered-event-bytes', undefined, ''),
    recordBytes: pick('record-bytes', undefined, ''),
    broadcastBytes: pick('broadcast-bytes', undefined, ''),
  };
  const limits = {
    partitions: Math.round(pick('partitions', undefined, '')),
    targetUtilisation: pick('target-utilisation', undefined, ''),
    streamsMax: pick('streams-max', undefined, ''),
    replayWindowS: pick('window-s', undefined, ''),
    replayMaxBytes: pick('replay-max-bytes', undefined, ''),
    maxInstances: Math.round(pick('max-instances', undefined, '')),
  };
  const broadcasts = pick('broadcasts', undefined, '');
  /** @type {Array<{ users: number, events: number, broadcasts: number }>} */
  let scenarios;
  if (options.has('users') || options.has('events')) {
    scenarios = [
      {
        users: Number(options.get('users') ?? 100_000),
        events: Number(options.get('events') ?? 10_000),
        broadcasts,
      },
    ];
  } else {
    scenarios = [
      [10_000, 1_000],
      [100_000, 1_000],
      [100_000, 5_000],
      [100_000, 10_000],
      [100_000, 20_000],
      [1_000_000, 10_000],
      [1_000_000, 20_000],
      [1_000_000, 100_000],
      [1_000_000, 1_000_000],
    ].map(([users = 0, events = 0]) => ({ users, events, broadcasts }));
  }
  const svg = options.get('svg') ?? join(projectRoot, 'docs', 'scaling-chart.svg');
  return { costs, limits, broadcasts, scenarios, sources, svg };
}

// ---------------------------------------------------------------------------------------------
// Text

const num = (/** @type {number} */ n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
const mib = (/** @type {number} */ bytes) => `${num(bytes / 2 ** 20)} MiB`;
const mbps = (/** @type {number} */ bytes) => `${num(bytes / 1e6, bytes < 1e7 ? 1 : 0)} MB/s`;
const short = (/** @type {number} */ n) =>
  n >= 1e6
    ? `${num(n / 1e6, n % 1e6 === 0 ? 0 : 1)}M`
    : n >= 1e3
      ? `${num(n / 1e3, n % 1e3 === 0 ? 0 : 1)}k`
      : num(n);

/**
 * @param {ReturnType<typeof resolveInputs>} inputs
 */
function report({ costs, limits, broadcasts, scenarios, sources }) {
  const lines = [];
  lines.push('Costs (CPU µs on one core; an instance is one Node process, one core of main thread):');
  const source = (/** @type {string} */ name) => sources[name] ?? '';
  lines.push(
    `  per record read (every instance that reads it): ${num(costs.recordMicros, 1)} µs  [${source('record-us')}]`,
  );
  lines.push(
    `  per targeted delivery:                         ${num(costs.deliveryMicros, 1)} µs  [${source('delivery-us')}]`,
  );
  lines.push(
    `  per broadcast delivery:                        ${num(costs.broadcastDeliveryMicros, 2)} µs  [${source('broadcast-delivery-us')}]`,
  );
  lines.push(
    `  memory per stream: ${num(costs.connectionBytes / 1024, 1)} KiB [${source('connection-bytes')}]; per buffered event: ${num(costs.bufferedEventBytes)} B [${source('buffered-event-bytes')}]`,
  );
  lines.push(
    `Limits: ${num(limits.targetUtilisation * 100)}% of a core per instance, ${num(limits.streamsMax)} streams per instance, ` +
      `${num(limits.partitions)} partitions, window ${num(limits.replayWindowS)} s capped at ${mib(limits.replayMaxBytes)}, ${num(broadcasts, 1)} broadcast(s)/s`,
  );
  lines.push('');
  const header = [
    'users',
    'events/s',
    'design',
    'instances',
    'CPU busiest',
    'cluster cores',
    'memory each',
    'window kept',
    'Kafka egress',
    'moved on join',
    'moved on leave',
    'warm-up on join',
  ];
  const rows = [header];
  for (const load of scenarios) {
    for (const design of /** @type {const} */ (['every', 'owner'])) {
      const n = instancesNeeded(design, load, costs, limits);
      if (n === null) {
        rows.push([
          short(load.users),
          short(load.events),
          design,
          'none fits',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
        ]);
        continue;
      }
      const busiest = perInstance(design, n, load, costs, limits);
      const churn = rebalanceChurn(design, n, load, costs, limits);
      rows.push([
        short(load.users),
        short(load.events),
        design,
        num(n),
        `${num(busiest.cpu * 100)}%`,
        num(clusterCpu(design, n, load, costs), 1),
        mib(busiest.memoryBytes),
        `${num(busiest.effectiveWindowS)} s`,
        mbps(brokerEgress(design, n, load, costs)),
        num(churn.joinMoves),
        num(churn.leaveMoves),
        churn.joinWarmRecords > 0
          ? `${short(Math.round(churn.joinWarmRecords))} rec, ${num((churn.joinWarmRecords * costs.recordMicros) / 1e6, 1)} s CPU`
          : '–',
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  for (const [index, row] of rows.entries()) {
    lines.push(
      row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
    );
    if (index === 0) lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  lines.push('');
  lines.push(...decision({ costs, limits, broadcasts }));
  return lines.join('\n');
}

/**
 * The figures the plan quotes: where every-instance-reads-all stops, and from what rate it costs
 * at least twice the instances of partition ownership.
 * @param {{ costs: import('./scaling-model.mjs').Costs, limits: import('./scaling-model.mjs').Limits, broadcasts: number }} inputs
 */
export function decisionFigures({ costs, limits, broadcasts }) {
  const ceiling = everyInstanceCeiling(broadcasts, costs, limits);
  /** Cluster event rate above which an instance reading everything keeps less than a minute. */
  const minuteOfWindowRate = windowLimitedRate(60, costs, limits);
  /** @type {Array<{ users: number, doubleFrom: number | null, needsAt: Record<string, { every: number | null, owner: number | null }> }>} */
  const perUsers = [];
  for (const users of [10_000, 100_000, 1_000_000]) {
    let doubleFrom = null;
    /** @type {Record<string, { every: number | null, owner: number | null }>} */
    const needsAt = {};
    for (let events = 100; events <= 1_000_000; events = Math.round(events * 1.05)) {
      const load = { users, events, broadcasts };
      const every = instancesNeeded('every', load, costs, limits);
      const owner = instancesNeeded('owner', load, costs, limits);
      if (doubleFrom === null && owner !== null && (every === null || every >= 2 * owner) && owner > 1)
        doubleFrom = events;
    }
    for (const events of [1_000, 5_000, 10_000]) {
      const load = { users, events, broadcasts };
      needsAt[events] = {
        every: instancesNeeded('every', load, costs, limits),
        owner: instancesNeeded('owner', load, costs, limits),
      };
    }
    perUsers.push({ users, doubleFrom, needsAt });
  }
  return { ceiling, minuteOfWindowRate, perUsers };
}

/** @param {{ costs: import('./scaling-model.mjs').Costs, limits: import('./scaling-model.mjs').Limits, broadcasts: number }} inputs */
function decision(inputs) {
  const { ceiling, minuteOfWindowRate, perUsers } = decisionFigures(inputs);
  const { costs, limits } = inputs;
  const lines = ['Decision:'];
  lines.push(
    `  every-instance-reads-all can never carry more than ${num(ceiling)} targeted events/s (at ${num(inputs.broadcasts, 1)} broadcast/s), ` +
      `however many instances: each instance spends ${num(inputs.costs.recordMicros, 1)} µs on every record.`,
  );
  lines.push(
    `  before that, the replay window: an instance that buffers every record keeps less than a minute of it under ` +
      `REPLAY_MAX_BYTES (${mib(limits.replayMaxBytes)}) from ${num(minuteOfWindowRate)} events/s cluster-wide ` +
      `(${num(costs.bufferedEventBytes)} B per buffered event); the full ${num(limits.replayWindowS / 60)} min at that rate needs ` +
      `${mib(limits.replayWindowS * minuteOfWindowRate * costs.bufferedEventBytes)} on every instance. Ownership divides both by N.`,
  );
  for (const { users, doubleFrom } of perUsers) {
    lines.push(
      `  ${short(users)} connections: every-instance needs at least twice the instances of partition ownership (or cannot carry it at all) from ` +
        `${doubleFrom === null ? 'no rate up to 1M' : `${num(doubleFrom)} events/s`}` +
        (doubleFrom === null ? '' : ` (about ${num((doubleFrom / ceiling) * 100)}% of its ceiling)`),
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Chart: two grids, one per design, of the instances each (users, events/s) needs

/** 100, 200, 500, 1k … 1M */
const EVENTS_AXIS = [1e2, 2e2, 5e2, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
const USERS_AXIS = [1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/**
 * @param {ReturnType<typeof resolveInputs>} inputs
 */
export function chart({ costs, limits, broadcasts }) {
  const cell = 44;
  const cellH = 26;
  const left = 70;
  const top = 78;
  const panelW = EVENTS_AXIS.length * cell;
  const panelH = USERS_AXIS.length * cellH;
  const gap = 60;
  const width = left + 2 * panelW + gap + 20;
  const height = top + panelH + 110;
  /** Colour for an instance count: light for few, dark for many (log scale up to 1,000). @param {number} n */
  const colour = (n) => {
    const t = Math.min(1, Math.log10(n) / 3);
    const lightness = Math.round(92 - t * 62);
    return `hsl(210, 70%, ${lightness}%)`;
  };
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(
    `<text x="${left}" y="22" font-size="15" font-weight="bold">Instances needed, by connections (rows) and targeted events/s (columns)</text>`,
  );
  out.push(
    `<text x="${left}" y="42">${escape(
      `Per record ${num(costs.recordMicros, 1)} µs, per targeted delivery ${num(costs.deliveryMicros, 1)} µs, per broadcast delivery ${num(costs.broadcastDeliveryMicros, 1)} µs; ` +
        `${num(broadcasts, 1)} broadcast/s; ${num(limits.targetUtilisation * 100)}% of a core and ${short(limits.streamsMax)} streams per instance; ${limits.partitions} partitions.`,
    )}</text>`,
  );
  const panels = /** @type {const} */ ([
    ['every', 'Every instance reads every record (today)'],
    ['owner', 'Partition ownership (one shared consumer group)'],
  ]);
  panels.forEach(([design, title], panel) => {
    const x0 = left + panel * (panelW + gap);
    out.push(`<text x="${x0}" y="${top - 14}" font-size="13" font-weight="bold">${escape(title)}</text>`);
    USERS_AXIS.forEach((users, row) => {
      const y = top + (USERS_AXIS.length - 1 - row) * cellH;
      if (panel === 0)
        out.push(`<text x="${left - 8}" y="${y + cellH / 2 + 4}" text-anchor="end">${short(users)}</text>`);
      EVENTS_AXIS.forEach((events, column) => {
        const x = x0 + column * cell;
        const n = instancesNeeded(design, { users, events, broadcasts }, costs, limits);
        const fill = n === null ? '#444' : colour(n);
        const ink = n === null || n >= 30 ? 'white' : 'black';
        out.push(`<rect x="${x}" y="${y}" width="${cell - 1}" height="${cellH - 1}" fill="${fill}"/>`);
        out.push(
          `<text x="${x + cell / 2}" y="${y + cellH / 2 + 4}" text-anchor="middle" fill="${ink}">${n === null ? '✕' : n}</text>`,
        );
      });
    });
    EVENTS_AXIS.forEach((events, column) => {
      const x = x0 + column * cell + cell / 2;
      out.push(`<text x="${x}" y="${top + panelH + 14}" text-anchor="middle">${short(events)}</text>`);
    });
    out.push(
      `<text x="${x0 + panelW / 2}" y="${top + panelH + 32}" text-anchor="middle">targeted events/s</text>`,
    );
  });
  out.push(
    `<text x="16" y="${top + panelH / 2}" transform="rotate(-90 16 ${top + panelH / 2})" text-anchor="middle">connections</text>`,
  );
  const ceiling = everyInstanceCeiling(broadcasts, costs, limits);
  out.push(
    `<text x="${left}" y="${top + panelH + 58}">${escape(
      `✕: no cluster size carries it. Every-instance-reads-all stops at ${num(ceiling)} events/s whatever its size; ` +
        `partition ownership stops at ${limits.partitions} instances (one per partition) or when the broadcasts alone fill an instance.`,
    )}</text>`,
  );
  out.push(
    `<text x="${left}" y="${top + panelH + 76}">${escape('Generated by npm run simulate (scripts/simulate-scaling.mjs); see docs/scaling.md.')}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** @param {string} text */
function escape(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function main() {
  const inputs = resolveInputs();
  console.log(report(inputs));
  writeFileSync(inputs.svg, chart(inputs));
  console.log(`\nChart: ${relative(process.cwd(), inputs.svg) || inputs.svg}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
