// @ts-check
/**
 * The gateway's Prometheus metrics (GET /metrics), read as the bench needs them: a metric's value
 * summed over its labels.
 */

/**
 * @typedef {{ name: string, labels: string, value: number }} Sample
 */

/**
 * The samples of a Prometheus text exposition (comments skipped).
 * @param {string} text
 * @returns {Sample[]}
 */
export function parseMetrics(text) {
  /** @type {Sample[]} */
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    const brace = series.indexOf('{');
    samples.push({
      name: brace === -1 ? series : series.slice(0, brace),
      labels: brace === -1 ? '' : series.slice(brace),
      value: Number(line.slice(space + 1)),
    });
  }
  return samples;
}

/**
 * A metric summed over its labels; `none` when the gateway has no series of it (a labelled counter
 * has none until it first counts).
 * @param {Sample[]} samples
 * @param {string} name
 * @param {number} [none]
 */
export function total(samples, name, none = 0) {
  let sum = none;
  let found = false;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    sum = found ? sum + sample.value : sample.value;
    found = true;
  }
  return sum;
}

/**
 * A metric summed over the series whose labels include `label` (e.g. `outcome="started"`); 0 when
 * there is none.
 * @param {Sample[]} samples
 * @param {string} name
 * @param {string} label
 */
export function labelledTotal(samples, name, label) {
  let sum = 0;
  for (const sample of samples)
    if (sample.name === name && sample.labels.includes(label)) sum += sample.value;
  return sum;
}

/** @param {string} metricsUrl the gateway's /metrics, on its management port when it has one */
export async function scrapeMetrics(metricsUrl) {
  const response = await fetch(metricsUrl);
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${metricsUrl} answered ${response.status}`);
  }
  return parseMetrics(await response.text());
}
