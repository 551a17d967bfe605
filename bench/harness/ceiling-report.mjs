// @ts-check
/**
 * The human summary of a ceiling run (`npm run bench:ceiling`): one Markdown table, one row per
 * mix and instance count, and the per-record / per-delivery split.
 */

/**
 * What the report reads of the results bench/ceiling.mjs writes as JSON.
 * @typedef {import('../scenarios/ceiling-search.mjs').Ceiling} Ceiling
 * @typedef {import('../harness/params.mjs').MixName} MixName
 * @typedef {{ perRecordMicros: number, perEventDeliveryMicros: number, perDeliveryMicros: number } | null} Fit
 * @typedef {{ startedAt: string, wallSeconds: number,
 *   machine: { cpus: number, cpuModel: string, totalMemoryBytes: number }, node: string,
 *   git: { revision: string, dirty: boolean },
 *   params: { mode: string, streams: number, stepS: number, maxLagS: number, partitions: number, mixes: MixName[] },
 *   kafka: { version: string },
 *   runs: Array<{ instances: number, mixes: Partial<Record<MixName, Ceiling>> }>,
 *   fit: Record<string, Fit> }} Results
 */

/**
 * @param {Results} results
 * @returns {string}
 */
export function ceilingMarkdown(results) {
  const num = (/** @type {unknown} */ v, digits = 0) =>
    typeof v === 'number' && Number.isFinite(v)
      ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
      : '–';
  const lines = [
    `# kafka-sse-gateway ceiling, ${results.startedAt}`,
    '',
    `${results.params.mode} run · ${num(results.params.streams)} streams split over the instances · ` +
      `${results.params.stepS} s steps · falls behind at ${results.params.maxLagS} s of deliveries · ` +
      `topic of ${results.params.partitions} partitions · Kafka ${results.kafka.version}`,
    `git ${results.git.revision}${results.git.dirty ? ' (dirty)' : ''} · Node ${results.node} · ` +
      `${results.machine.cpus} × ${results.machine.cpuModel} · ${num(results.machine.totalMemoryBytes / 2 ** 30, 1)} GiB · ` +
      `run took ${num(results.wallSeconds)} s`,
    '',
    `**Every instance shares the same ${results.machine.cpus} cores** (and with Kafka, the producer and the load ` +
      'clients): more instances here add no CPU. What the table shows is what each record costs the ' +
      'cluster: with every instance reading every record, cluster CPU per event grows with the instance ' +
      'count, so the event rate the cluster sustains stays flat or falls while the connections it holds grow.',
    '',
    '| mix | instances | streams per instance | ceiling events/s | deliveries/s | gateway CPU at ceiling (each, 100% = one core) | cluster CPU per event (above idle) | p99 at ceiling | machine CPU (100% = all cores) | other CPU (100% = one core) | first rate that fell behind |',
    '|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|',
  ];
  for (const mix of results.params.mixes) {
    for (const run of results.runs) {
      const found = run.mixes[mix];
      if (!found) continue;
      const at = found.atCeiling;
      lines.push(
        `| ${mix}${found.broadcastPercent > 0 && found.broadcastPercent < 100 ? ` (${found.broadcastPercent}% broadcast)` : ''} | ${run.instances} | ${num(results.params.streams / run.instances)} | ` +
          `${num(found.ceilingEventsPerSecond)} | ${num(at ? at.deliveries / at.seconds : NaN)} | ` +
          `${at ? at.gatewayCpuPercent.map((p) => `${num(p)}%`).join(' · ') : '–'} | ` +
          `${at ? `${num(at.clusterCpuMicrosPerEvent, 1)} µs` : '–'} | ${at ? `${num(at.latency.p99Ms)} ms` : '–'} | ` +
          `${at ? `${num(at.machineCpuPercent)}%` : '–'} | ${at ? `${num(at.otherCpuPercent)}%${at.otherCpuPercent > 60 ? ' (disturbed?)' : ''}` : '–'} | ` +
          `${num(found.firstFailingEventsPerSecond)} |`,
      );
    }
  }
  lines.push('');
  const fits = /** @type {Array<[string, NonNullable<Fit>]>} */ (
    Object.entries(results.fit).filter(([, fit]) => fit)
  );
  if (fits.length > 0) {
    lines.push(
      'Cost per record read by every instance (slope of cluster CPU per event over the instance count) and per event delivered (intercept):',
      '',
    );
    for (const [mix, fit] of fits) {
      lines.push(
        `- ${mix}: ${num(fit.perRecordMicros, 1)} µs per record per instance; ${num(fit.perEventDeliveryMicros, 1)} µs to deliver one event (${num(fit.perDeliveryMicros, 2)} µs per delivery)`,
      );
    }
    lines.push('');
  }
  lines.push(
    'Ceiling: the highest offered rate whose step kept delivery within the lag bound and ended less than a second of deliveries behind. ' +
      'Deliveries/s and CPU are over the step including its drain; cluster CPU per event leaves out what the gateways spend idle ' +
      "(measured before the steps). Other CPU: the machine's busy time beyond the gateways, Kafka, the load clients and the harness. " +
      'See bench/README.md ("The ceiling").',
    '',
  );
  return lines.join('\n');
}
