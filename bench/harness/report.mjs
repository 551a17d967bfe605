// @ts-check
/**
 * The human summary of a run: one Markdown table, the gateway beside each floor and the ratio.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * CPU used by neither the benchmark's processes nor Kafka, above which a scenario is flagged, in %
 * of one core. The kernel's loopback work alone is 20-45% on a quiet two-core machine.
 */
const OTHER_CPU_WARNING_PERCENT = 60;

/** In the order they run. */
const SCENARIOS = ['targeted', 'broadcast', 'fanout', 'steadyModerate', 'steady'];

/** @param {unknown} value */
const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

/** @param {unknown} value @param {number} [digits] */
function num(value, digits = 0) {
  if (!isNumber(value)) return '–';
  return /** @type {number} */ (value).toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** @param {unknown} value */
function bytes(value) {
  if (!isNumber(value)) return '–';
  const n = /** @type {number} */ (value);
  return Math.abs(n) >= 1024 ? `${num(n / 1024, 1)} KiB` : `${num(n)} B`;
}

/** @param {unknown} value */
function ms(value) {
  if (!isNumber(value)) return '–';
  const n = /** @type {number} */ (value);
  return n >= 100 ? `${num(n)} ms` : `${num(n, n >= 10 ? 1 : 2)} ms`;
}

/** @param {unknown} a @param {unknown} b */
function ratio(a, b) {
  if (!isNumber(a) || !isNumber(b) || b === 0) return '–';
  const r = /** @type {number} */ (a) / /** @type {number} */ (b);
  return `${r >= 10 ? num(r, 1) : num(r, 2)}×`;
}

/**
 * The value at a dotted path of nested objects, or undefined.
 * @param {unknown} object
 * @param {string} path
 * @returns {unknown}
 */
export function get(object, path) {
  let value = object;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = /** @type {Record<string, unknown>} */ (value)[key];
  }
  return value;
}

/** The figures whose gateway ÷ raw floor ratio every run records, by scenario. */
const RATIO_FIGURES = {
  idle: ['rssPerStreamBytes', 'heapPerStreamBytes', 'connectsPerSecond'],
  targeted: [
    'deliveriesPerSecond',
    'targetCpuMicrosPerDelivery',
    'latency.p50Ms',
    'latency.p99Ms',
    'latency.maxMs',
  ],
  broadcast: [
    'deliveriesPerSecond',
    'targetCpuMicrosPerDelivery',
    'latency.p50Ms',
    'latency.p99Ms',
    'latency.maxMs',
  ],
  fanout: ['latency.p50Ms', 'latency.p99Ms', 'latency.maxMs', 'targetCpuMicrosPerDelivery'],
  steady: [
    'deliveriesPerSecond',
    'targetCpuMicrosPerDelivery',
    'latency.p50Ms',
    'latency.p99Ms',
    'latency.maxMs',
  ],
  steadyModerate: [
    'deliveriesPerSecond',
    'targetCpuMicrosPerDelivery',
    'latency.p50Ms',
    'latency.p99Ms',
    'latency.maxMs',
  ],
};

/**
 * Gateway ÷ floor for every figure the two have in common (the results file's `ratios`).
 * @param {object | undefined} gateway
 * @param {object | undefined} raw
 * @param {{ recordsPerSecond: number }} consume
 */
export function ratios(gateway, raw, consume) {
  const numberAt = (/** @type {unknown} */ object, /** @type {string} */ path) => {
    const value = get(object, path);
    return typeof value === 'number' ? value : NaN;
  };
  const quotient = (/** @type {number} */ a, /** @type {number} */ b) =>
    Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? Math.round((a / b) * 1000) / 1000 : null;
  /** @type {Record<string, number | null>} */
  const out = {};
  if (gateway && raw) {
    for (const [scenario, names] of Object.entries(RATIO_FIGURES)) {
      for (const name of names) {
        const path = `${scenario}.${name}`;
        out[path] = quotient(numberAt(gateway, path), numberAt(raw, path));
      }
    }
  }
  if (gateway) {
    out['targeted.eventsPerSecond/kafkaConsume'] = quotient(
      numberAt(gateway, 'targeted.eventsPerSecond'),
      consume.recordsPerSecond,
    );
  }
  return out;
}

/**
 * What the report reads of the results bench/run.mjs writes as JSON; the targets' figures are
 * read by path.
 * @typedef {{ records: number, recordsPerSecond: number }} ConsumeFigures
 * @typedef {{
 *   startedAt: string,
 *   wallSeconds: number,
 *   node: string,
 *   machine: { cpus: number, cpuModel: string, totalMemoryBytes: number, platform: string },
 *   git: { revision: string, dirty: boolean },
 *   params: { mode: string, streams: number, clients: number, durationS: number, steadyRate: number,
 *     steadyDurationS: number, steadyBroadcastPercent: number, steadyMaxLagS: number, partitions: number,
 *     queuedPerStream: { targeted: number, broadcast: number }, moderateFraction: number, nodeOptions?: string[] },
 *   kafka: { version: string },
 *   gateway: object | null,
 *   floors: { kafkaConsume: (ConsumeFigures & { eachBatch: ConsumeFigures, platformatic?: ConsumeFigures | null }) | null,
 *     rawSse: object | null, nestSse?: object | null, nestFastifySse?: object | null },
 *   wide?: { gateway: object | null, raw: object | null,
 *     cursor: Array<{ partitions: number, cursorLength: number, decimalLength: number, formatNanoseconds: number }> } | null,
 *   storm?: Record<string, number | boolean> | null,
 *   absence?: object | null,
 * }} ReportInput
 * @typedef {{ file: string, summary: import('./profile-summary.mjs').ProfileSummary }} ProfileFigures
 */

/**
 * @param {ReportInput} results
 * @returns {string}
 */
export function markdownReport(results) {
  const gateway = results.gateway;
  const raw = results.floors.rawSse;
  const consume = results.floors.kafkaConsume;
  const p = results.params;
  const lines = [];
  lines.push(`# kafka-sse-gateway benchmark, ${results.startedAt}`);
  lines.push('');
  const idleOnly = p.mode === 'idle';
  lines.push(
    idleOnly
      ? `idle streams only · ${num(p.streams)} streams over ${p.clients} load clients · Kafka ${results.kafka.version}`
      : `${p.mode} run · ${num(p.streams)} streams over ${p.clients} load clients · ${p.durationS} s per throughput ` +
          `scenario · steady ${num(p.steadyRate)} events/s for ${p.steadyDurationS} s (${p.steadyBroadcastPercent}% broadcast) · ` +
          `topic of ${p.partitions} partitions · Kafka ${results.kafka.version}`,
  );
  lines.push(
    `git ${results.git.revision}${results.git.dirty ? ' (dirty)' : ''} · Node ${results.node}` +
      `${p.nodeOptions?.length ? ` ${p.nodeOptions.join(' ')}` : ''} · ` +
      `${results.machine.cpus} × ${results.machine.cpuModel} · ${num(results.machine.totalMemoryBytes / 2 ** 30, 1)} GiB · ` +
      `${results.machine.platform} · run took ${num(results.wallSeconds)} s`,
  );
  lines.push('');
  lines.push('| Scenario | Figure | Gateway | Raw SSE floor | Gateway ÷ floor |');
  lines.push('|---|---|---:|---:|---:|');
  /**
   * @param {string} scenario
   * @param {string} label
   * @param {string} path
   * @param {(value: unknown) => string} format
   */
  const row = (scenario, label, path, format) => {
    const a = get(gateway, path);
    const b = get(raw, path);
    lines.push(`| ${scenario} | ${label} | ${format(a)} | ${format(b)} | ${ratio(a, b)} |`);
  };
  const count = (/** @type {unknown} */ v) => num(v);
  const perSecond = (/** @type {unknown} */ v) => num(v);
  const micros = (/** @type {unknown} */ v) => (isNumber(v) ? `${num(v, 1)} µs` : '–');
  const percent = (/** @type {unknown} */ v) => (isNumber(v) ? `${num(v)}%` : '–');
  row('idle', 'streams open', 'idle.streams', count);
  row('idle', 'RSS per stream', 'idle.rssPerStreamBytes', bytes);
  row('idle', 'JS heap per stream', 'idle.heapPerStreamBytes', bytes);
  row('idle', 'streams opened per second', 'idle.connectsPerSecond', perSecond);
  const yesNo = (/** @type {unknown} */ v) => (v === undefined ? '–' : v ? '**yes**' : 'no');
  for (const scenario of SCENARIOS) {
    // An idle-only run (BENCH_IDLE_ONLY=1) has none of them.
    if (get(gateway, scenario) === undefined && get(raw, scenario) === undefined) continue;
    const steady = scenario.startsWith('steady');
    if (steady) {
      row(scenario, 'events/s offered', `${scenario}.producedPerSecond`, perSecond);
      row(scenario, 'deliveries/s offered', `${scenario}.offeredDeliveriesPerSecond`, perSecond);
    }
    row(scenario, 'deliveries/s', `${scenario}.deliveriesPerSecond`, perSecond);
    row(scenario, 'latency p50', `${scenario}.latency.p50Ms`, ms);
    row(scenario, 'latency p99', `${scenario}.latency.p99Ms`, ms);
    row(scenario, 'latency max', `${scenario}.latency.maxMs`, ms);
    row(scenario, 'target CPU per delivery', `${scenario}.targetCpuMicrosPerDelivery`, micros);
    row(scenario, 'target CPU (100% = one core)', `${scenario}.targetCpuPercent`, percent);
    row(scenario, 'target write calls per delivery', `${scenario}.targetWriteCallsPerDelivery`, (v) =>
      num(v, 2),
    );
    row(scenario, 'load clients CPU (100% = one core)', `${scenario}.loadClientsCpuPercent`, percent);
    row(scenario, 'Kafka broker CPU (100% = one core)', `${scenario}.kafkaCpuPercent`, percent);
    row(scenario, 'harness/producer CPU (100% = one core)', `${scenario}.harnessCpuPercent`, percent);
    row(
      scenario,
      `machine CPU (100% = all ${results.machine.cpus} cores)`,
      `${scenario}.machineCpuPercent`,
      percent,
    );
    row(
      scenario,
      'other CPU: kernel, other processes (100% = one core)',
      `${scenario}.otherCpuPercent`,
      percent,
    );
    if (steady) {
      lines.push(
        `| ${scenario} | saturated (fell ${p.steadyMaxLagS} s behind) | ${yesNo(get(gateway, `${scenario}.saturated`))} | ` +
          `${yesNo(get(raw, `${scenario}.saturated`))} | |`,
      );
    }
  }
  lines.push('');
  const nest = results.floors.nestSse;
  const fastify = results.floors.nestFastifySse;
  if (nest && fastify) {
    // What the framework holds per connection on each HTTP platform, beside the gateway and raw Node.
    lines.push(
      '| Idle stream | Gateway | Nest @Sse() on Express | Nest @Sse() on Fastify | Raw SSE floor | ' +
        'Gateway ÷ Nest Express | Nest Express ÷ raw | Nest Fastify ÷ raw | Nest Fastify ÷ Nest Express |',
    );
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    /** @type {Array<[string, string, (value: unknown) => string]>} */
    const figures = [
      ['RSS per stream', 'idle.rssPerStreamBytes', bytes],
      ['JS heap per stream', 'idle.heapPerStreamBytes', bytes],
      ['streams opened per second', 'idle.connectsPerSecond', perSecond],
    ];
    for (const [label, path, format] of figures) {
      const [a, b, f, c] = [get(gateway, path), get(nest, path), get(fastify, path), get(raw, path)];
      lines.push(
        `| ${label} | ${format(a)} | ${format(b)} | ${format(f)} | ${format(c)} | ${ratio(a, b)} | ` +
          `${ratio(b, c)} | ${ratio(f, c)} | ${ratio(f, b)} |`,
      );
    }
    lines.push('');
  } else if (nest) {
    // The framework's share of a connection: what a bare Nest @Sse() route holds per stream.
    lines.push('| Idle stream | Gateway | Nest @Sse() floor | Raw SSE floor | Gateway ÷ Nest | Nest ÷ raw |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    /** @type {Array<[string, string]>} */
    const figures = [
      ['RSS per stream', 'idle.rssPerStreamBytes'],
      ['JS heap per stream', 'idle.heapPerStreamBytes'],
    ];
    for (const [label, path] of figures) {
      const [a, b, c] = [get(gateway, path), get(nest, path), get(raw, path)];
      lines.push(`| ${label} | ${bytes(a)} | ${bytes(b)} | ${bytes(c)} | ${ratio(a, b)} | ${ratio(b, c)} |`);
    }
    lines.push('');
  }
  if (consume) consumeRows(lines, consume, get(gateway, 'targeted.eventsPerSecond'));
  lines.push('');
  const wide = results.wide;
  if (wide && (wide.gateway || wide.raw)) {
    const partitions = get(wide.gateway ?? wide.raw, 'partitions');
    lines.push(
      `| Topic of ${num(partitions)} partitions, targeted | Gateway | Raw SSE floor | Gateway ÷ floor |`,
    );
    lines.push('|---|---:|---:|---:|');
    /** @param {string} label @param {string} path @param {(value: unknown) => string} format */
    const wideRow = (label, path, format) => {
      const a = get(wide.gateway, path);
      const b = get(wide.raw, path);
      lines.push(`| ${label} | ${format(a)} | ${format(b)} | ${ratio(a, b)} |`);
    };
    wideRow('deliveries/s', 'targeted.deliveriesPerSecond', perSecond);
    wideRow('target CPU per delivery', 'targeted.targetCpuMicrosPerDelivery', micros);
    wideRow('latency p50', 'targeted.latency.p50Ms', ms);
    wideRow('event id length (characters)', 'idLength', count);
    lines.push('');
  }
  if (wide?.cursor) {
    lines.push('| Cursor of one topic | characters | as decimals | formatting it |');
    lines.push('|---|---:|---:|---:|');
    for (const item of wide.cursor) {
      lines.push(
        `| ${num(item.partitions)} partitions | ${num(item.cursorLength)} | ${num(item.decimalLength)} | ${num(item.formatNanoseconds)} ns |`,
      );
    }
    lines.push('');
  }
  const storm = results.storm;
  if (storm) {
    lines.push('| Reconnect storm (gateway) | |');
    lines.push('|---|---:|');
    lines.push(`| streams resuming at once, from an id a minute old | ${num(storm['streams'])} |`);
    lines.push(
      `| records in the replay buffer (15 minutes of mixed traffic) | ${num(storm['bufferedRecords'])} |`,
    );
    lines.push(`| until every stream is open | ${num(storm['openSeconds'], 1)} s |`);
    lines.push(
      `| until every stream is live (has a broadcast sent after the storm) | ${num(storm['liveSeconds'], 1)} s |`,
    );
    lines.push(`| opens told to retry later (429, Retry-After) | ${num(storm['refusedOpens'])} |`);
    lines.push(`| events replayed | ${num(storm['replayedEvents'])} |`);
    lines.push(
      `| worst event-loop delay / p99 | ${ms(storm['maxEventLoopDelayMs'])} / ${ms(storm['p99EventLoopDelayMs'])} |`,
    );
    lines.push('');
  }
  if (results.absence) lines.push(...absenceLines(results.absence), '');
  /** @type {Array<[string, object | null]>} */
  const targets = [
    ['gateway', gateway],
    ['raw SSE floor', raw],
  ];
  const incomplete = [];
  for (const [name, target] of targets) {
    for (const scenario of SCENARIOS) {
      const figures = get(target, scenario);
      if (figures && get(figures, 'complete') === false && get(figures, 'saturated') !== true) {
        incomplete.push(
          `${name} ${scenario}: ${num(get(figures, 'deliveries'))} of ${num(get(figures, 'expectedDeliveries'))} deliveries arrived`,
        );
      }
    }
    if (
      isNumber(get(target, 'streamsClosedByServer')) &&
      /** @type {number} */ (get(target, 'streamsClosedByServer')) > 0
    ) {
      incomplete.push(
        `${name}: ${num(get(target, 'streamsClosedByServer'))} streams closed by the server during the run`,
      );
    }
    for (const scenario of SCENARIOS) {
      const other = get(target, `${scenario}.otherCpuPercent`);
      if (isNumber(other) && /** @type {number} */ (other) > OTHER_CPU_WARNING_PERCENT) {
        incomplete.push(
          `${name} ${scenario}: ${num(other)}% of a core went to neither the benchmark nor Kafka ` +
            '(other processes, kernel work): its figures may be disturbed',
        );
      }
    }
    for (const scenario of ['steady', 'steadyModerate']) {
      if (get(target, `${scenario}.saturated`) === true) {
        incomplete.push(
          `${name} ${scenario}: saturated, so its latency measures the backlog, not the service`,
        );
      }
    }
  }
  if (incomplete.length > 0) {
    lines.push('**Warnings:**');
    for (const warning of incomplete) lines.push(`- ${warning}`);
    lines.push('');
  }
  const moderate = get(gateway ?? raw, 'steadyModerate.offeredEventsPerSecond');
  if (idleOnly) {
    lines.push(
      'Memory per stream: after two forced GCs, (after − before) ÷ streams; the Nest floors are one bare @Sse() ' +
        'route each, on the Express and on the Fastify adapter. See bench/README.md.',
    );
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `Deliveries/s: events received by the load clients ÷ (last receipt − first record produced). targeted and ` +
      `broadcast run as fast as the target takes events, with the same ${num(p.queuedPerStream.targeted)} targeted ` +
      `or ${num(p.queuedPerStream.broadcast)} broadcast events per stream kept queued ahead of the clients for every ` +
      `target, so their latency is mostly that queue. steadyModerate offers the steady mix at ` +
      `${num(moderate)} events/s (${num(p.moderateFraction * 100)}% of the gateway's estimated capacity for it) to ` +
      `both targets: its latency is the one below saturation. steady offers ${num(p.steadyRate)} events/s; when ` +
      `saturated, its deliveries/s is the capacity for the mix and its latency is backlog. Latency: producer time ` +
      `stamp → client receipt (monotonic clock, same machine). Memory per stream: after two forced GCs, (after − ` +
      `before) ÷ streams. CPU: user + system time from /proc over the scenario; write calls: write/writev system ` +
      `calls of the target. See bench/README.md.`,
  );
  for (const [name, target] of targets) {
    for (const scenario of SCENARIOS) {
      const profile = /** @type {ProfileFigures | undefined} */ (get(target, `${scenario}.profile`));
      if (!profile) continue;
      lines.push('');
      lines.push(`## CPU profile: ${name}, ${scenario} (${profile.file})`);
      lines.push('');
      lines.push('| Self time by package | ms | % |');
      lines.push('|---|---:|---:|');
      for (const item of profile.summary.byPackage.slice(0, 12)) {
        lines.push(`| ${item.package} | ${num(item.ms)} | ${num(item.percent, 1)} |`);
      }
      lines.push('');
      lines.push('| Top self time | where | ms | % |');
      lines.push('|---|---|---:|---:|');
      for (const item of profile.summary.topSelf.slice(0, 20)) {
        lines.push(`| \`${item.name}\` | ${item.where} | ${num(item.ms)} | ${num(item.percent, 1)} |`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The Kafka consume floor's rows.
 * @param {string[]} lines
 * @param {NonNullable<ReportInput['floors']['kafkaConsume']>} consume
 * @param {unknown} events the gateway's targeted events/s
 */
function consumeRows(lines, consume, events) {
  lines.push('| Kafka consume floor | records/s | Gateway targeted events/s | Gateway ÷ floor |');
  lines.push('|---|---:|---:|---:|');
  lines.push(
    `| plain kafkajs consumer, eachMessage (${num(consume.records)} records) | ${num(consume.recordsPerSecond)} | ` +
      `${num(events)} | ${ratio(events, consume.recordsPerSecond)} |`,
  );
  lines.push(
    `| plain kafkajs consumer, eachBatch (${num(consume.eachBatch.records)} records) | ${num(consume.eachBatch.recordsPerSecond)} | ` +
      `${num(events)} | ${ratio(events, consume.eachBatch.recordsPerSecond)} |`,
  );
  if (consume.platformatic) {
    lines.push(
      `| @platformatic/kafka consumer stream (${num(consume.platformatic.records)} records) | ${num(consume.platformatic.recordsPerSecond)} | ` +
        `${num(events)} | ${ratio(events, consume.platformatic.recordsPerSecond)} |`,
    );
  }
}

// `node bench/harness/report.mjs bench/results/<time>.json` prints the summary of a run again.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/harness/report.mjs <results.json>');
    process.exit(2);
  }
  /** @type {unknown} */
  const results = JSON.parse(readFileSync(file, 'utf8'));
  process.stdout.write(markdownReport(/** @type {ReportInput} */ (results)));
}

/**
 * The long absence's table (bench/scenarios/long-absence.mjs): the return, then the warm start it
 * compares with.
 * @param {object} absence
 * @returns {string[]}
 */
export function absenceLines(absence) {
  const at = (/** @type {string} */ path) => get(absence, path);
  const mib = (/** @type {unknown} */ v) =>
    isNumber(v) && /** @type {number} */ (v) >= 2 ** 20
      ? `${num(/** @type {number} */ (v) / 2 ** 20)} MiB`
      : bytes(v);
  const seconds = (/** @type {unknown} */ v) => (isNumber(v) ? `${num(v, 1)} s` : '–');
  return [
    '| Long absence (gateway) | |',
    '|---|---:|',
    `| streams away, then back at once from their own last ids | ${num(at('streams'))} |`,
    `| records while away (${num(at('absenceRate'))}/s for ${num(at('absenceS'))} s, targeted, stamped over that time) | ${num(at('absentRecords'))} |`,
    `| replay store of the gateway they come back to | ${mib(at('replayMaxBytes'))} |`,
    `| until every stream is open | ${seconds(at('openSeconds'))} |`,
    `| until every stream has every event of its user | ${seconds(at('caughtUpSeconds'))} |`,
    `| until every stream is live (has a broadcast sent once all were open) | ${seconds(at('liveSeconds'))} |`,
    `| opens told to retry later (429, Retry-After) | ${num(at('refusedOpens'))} |`,
    `| gateway CPU meanwhile | ${seconds(at('gatewayCpuSeconds'))} (${num(at('gatewayCpuPercent'))}% of a core) |`,
    `| gateway RSS before / peak | ${mib(at('rssBeforeBytes'))} / ${mib(at('peakRssBytes'))} |`,
    `| catch-up passes started / resumes that joined one | ${num(at('catchUpsStarted'))} / ${num(at('catchUpsJoined'))} |`,
    `| records read from Kafka (scanned) / events served from them | ${num(at('recordsScanned'))} / ${num(at('eventsServed'))} |`,
    `| records read from Kafka per record of the absence | ${num(at('scannedPerRecord'), 2)} |`,
    `| resets (must be 0) | ${num(at('resets'))} |`,
    `| lost / duplicated / misdelivered (must be 0) | ${num(at('lost'))} / ${num(at('duplicated'))} / ${num(at('misdelivered'))} |`,
    `| worst event-loop delay / p99 | ${ms(at('maxEventLoopDelayMs'))} / ${ms(at('p99EventLoopDelayMs'))} |`,
    `| warm start instead: a fresh gateway reading the same window, until ready | ${seconds(at('warmStart.readySeconds'))} |`,
    `| its replay buffer then: events / size | ${num(at('warmStart.bufferedEvents'))} / ${mib(at('warmStart.bufferBytes'))} |`,
    `| its CPU / RSS once ready | ${seconds(at('warmStart.cpuSeconds'))} / ${mib(at('warmStart.rssBytes'))} |`,
  ];
}
