// @ts-check
/**
 * The soak's samples as one SVG file: a panel per figure (memory, event-loop delay, consumer lag,
 * open streams) over the run's minutes, a line per gateway instance, dashed lines where the warm-up
 * ended and where the second instance took over. Plain SVG text, readable in any browser.
 */

const WIDTH = 960;
const PANEL_HEIGHT = 170;
const LEFT = 78;
const RIGHT = 24;
const LINE = 16;
const PANEL_GAP = 42;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/**
 * @typedef {{ t: number, instance: string } & Record<string, number | string>} ChartSample `t` in seconds
 * @typedef {{ title: string, unit: string, series: Array<{ key: string, label: string, scale: number,
 *   dashed?: boolean }> }} Panel a figure: each series is `sample[key] × scale`
 * @typedef {{ atS: number, label: string }} Mark
 */

/** The soak's panels: which sample fields each draws, in which unit. */
export const SOAK_PANELS = /** @type {Panel[]} */ ([
  {
    title: 'Memory',
    unit: 'MiB',
    series: [
      { key: 'rssBytes', label: 'RSS', scale: 1 / 2 ** 20 },
      { key: 'heapUsedBytes', label: 'JS heap used', scale: 1 / 2 ** 20, dashed: true },
      { key: 'heapLiveBytes', label: 'live heap (after a major GC)', scale: 1 / 2 ** 20 },
    ],
  },
  {
    title: 'Event-loop delay',
    unit: 'ms',
    series: [
      { key: 'loopP99Ms', label: 'p99', scale: 1 },
      { key: 'loopMaxMs', label: 'max', scale: 1, dashed: true },
    ],
  },
  { title: 'Kafka consumer lag', unit: 'records', series: [{ key: 'lag', label: 'lag', scale: 1 }] },
  { title: 'Open streams', unit: 'streams', series: [{ key: 'streamsOpen', label: 'open', scale: 1 }] },
]);

/** @param {string} text */
function escape(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round step (1, 2 or 5 × 10^k) that cuts `range` into about `count` parts. @param {number} range @param {number} count */
export function niceStep(range, count) {
  if (!(range > 0)) return 1;
  const raw = range / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((f) => f * power >= raw) ?? 10;
  return step * power;
}

/** @param {number} value */
function label(value) {
  return Math.abs(value) >= 1000
    ? Math.round(value).toLocaleString('en-US')
    : String(Math.round(value * 100) / 100);
}

/**
 * @param {{ title: string, subtitle: string[], samples: ChartSample[], marks: Mark[], panels?: Panel[] }} chart
 *   `subtitle`: lines under the title
 * @returns {string} the SVG document
 */
export function svgChart({ title, subtitle, samples, marks, panels = SOAK_PANELS }) {
  const instances = [...new Set(samples.map((s) => s.instance))];
  const endMinutes = Math.max(1 / 6, ...samples.map((s) => s.t / 60), ...marks.map((m) => m.atS / 60));
  const xStep = niceStep(endMinutes, 10);
  const xMax = Math.ceil(endMinutes / xStep) * xStep;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (/** @type {number} */ minutes) => LEFT + (minutes / xMax) * plotWidth;
  const legendY = 40 + subtitle.length * LINE;
  const header = legendY + 16;
  const height = header + panels.length * (PANEL_HEIGHT + PANEL_GAP) + 10;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    ...subtitle.map((line, i) => `<text x="${LEFT}" y="${40 + i * LINE}">${escape(line)}</text>`),
  ];
  instances.forEach((instance, i) =>
    out.push(
      `<line x1="${LEFT + i * 110}" y1="${legendY - 4}" x2="${LEFT + i * 110 + 24}" y2="${legendY - 4}" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2"/>`,
      `<text x="${LEFT + i * 110 + 30}" y="${legendY}">instance ${escape(instance)}</text>`,
    ),
  );
  panels.forEach((panel, index) => {
    const top = header + index * (PANEL_HEIGHT + PANEL_GAP) + 20;
    const bottom = top + PANEL_HEIGHT;
    const values = samples.flatMap((s) =>
      panel.series.map((series) => Number(s[series.key]) * series.scale).filter(Number.isFinite),
    );
    const yTop = Math.max(0, ...values);
    const yStep = niceStep(yTop, 4);
    const yMax = Math.max(yStep, Math.ceil((yTop * 1.05) / yStep) * yStep);
    const y = (/** @type {number} */ value) => bottom - (value / yMax) * PANEL_HEIGHT;
    out.push(
      `<text x="${LEFT}" y="${top - 6}" font-weight="bold">${escape(panel.title)} (${escape(panel.unit)})` +
        `${panel.series.length > 1 ? `: ${panel.series.map((s) => `${s.label}${s.dashed ? ' (dashed)' : ''}`).join(', ')}` : ''}</text>`,
    );
    for (let value = 0; value <= yMax + yStep / 2; value += yStep) {
      out.push(
        `<line x1="${LEFT}" y1="${y(value).toFixed(1)}" x2="${WIDTH - RIGHT}" y2="${y(value).toFixed(1)}" stroke="#e5e5e5"/>`,
        `<text x="${LEFT - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${label(value)}</text>`,
      );
    }
    for (let minutes = 0; minutes <= xMax + xStep / 2; minutes += xStep) {
      out.push(
        `<text x="${x(minutes).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${label(minutes)}${minutes === 0 ? ' min' : ''}</text>`,
      );
    }
    out.push(
      `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`,
    );
    for (const mark of marks) {
      const at = x(mark.atS / 60).toFixed(1);
      out.push(
        `<line x1="${at}" y1="${top}" x2="${at}" y2="${bottom}" stroke="#777" stroke-dasharray="4 3"/>`,
        index === 0 ? `<text x="${at}" y="${top + 12}" dx="3" fill="#555">${escape(mark.label)}</text>` : '',
      );
    }
    instances.forEach((instance, i) => {
      for (const series of panel.series) {
        const points = samples
          .filter((s) => s.instance === instance && Number.isFinite(Number(s[series.key])))
          .map((s) => `${x(s.t / 60).toFixed(1)},${y(Number(s[series.key]) * series.scale).toFixed(1)}`);
        if (points.length === 0) continue;
        out.push(
          `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="1.5"${series.dashed ? ' stroke-dasharray="5 3"' : ''} points="${points.join(' ')}"/>`,
        );
      }
    });
  });
  out.push('</svg>');
  return `${out.filter(Boolean).join('\n')}\n`;
}
