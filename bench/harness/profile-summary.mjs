// @ts-check
/**
 * Where the time goes in a V8 CPU profile (.cpuprofile, as `--cpu-prof` or the bench probe write):
 * top functions by self time, top functions by inclusive time, and self time by package.
 *
 *   node bench/profile-summary.mjs /tmp/prof/gateway-broadcast.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * @typedef {{ functionName: string, url: string, lineNumber: number, columnNumber: number }} CallFrame
 * @typedef {{ id: number, callFrame: CallFrame, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} CpuProfile
 * @typedef {{ name: string, where: string, package: string, ms: number, percent: number }} Entry
 * @typedef {{ totalMs: number, samples: number, topSelf: Entry[], topInclusive: Entry[],
 *   byPackage: Array<{ package: string, ms: number, percent: number }> }} ProfileSummary
 */

/**
 * What a frame belongs to: a package under node_modules, Node's own code, the gateway's build, or
 * V8's pseudo-frames (garbage collector, program, idle).
 * @param {CallFrame} frame
 */
export function packageOf(frame) {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle)
    return '(native)';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? url);
  }
  if (url.startsWith('node:')) {
    const path = url.slice('node:'.length).replace(/^internal\//, '');
    return `node:${path
      .split('/')
      .slice(0, path.startsWith('streams') ? 1 : 2)
      .join('/')}`;
  }
  if (url.includes('/dist/')) return 'gateway (dist)';
  if (url.includes('/bench/')) return 'bench';
  return url.replace(/^file:\/\//, '');
}

/** @param {CallFrame} frame */
function where(frame) {
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '');
  return file === '' ? '' : `${file}:${frame.lineNumber + 1}`;
}

/**
 * @param {CpuProfile} profile
 * @param {number} [top]
 * @returns {ProfileSummary}
 */
export function summariseProfile(profile, top = 25) {
  /** @type {Map<number, ProfileNode>} */
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const keyOf = (/** @type {CallFrame} */ frame) => `${frame.functionName || '(anonymous)'} ${where(frame)}`;

  /** @type {Map<string, { frame: CallFrame, self: number, inclusive: number }>} */
  const functions = new Map();
  const entry = (/** @type {CallFrame} */ frame) => {
    const key = keyOf(frame);
    let found = functions.get(key);
    if (!found) functions.set(key, (found = { frame, self: 0, inclusive: 0 }));
    return found;
  };
  /** @type {Map<string, number>} */
  const packages = new Map();
  let total = 0;
  // Sample i lasted from its time stamp to the next one's: timeDeltas[i + 1] (µs).
  for (let i = 0; i < profile.samples.length; i++) {
    const duration = profile.timeDeltas[i + 1] ?? 0;
    const leaf = nodes.get(profile.samples[i] ?? -1);
    if (!leaf || duration <= 0) continue;
    total += duration;
    entry(leaf.callFrame).self += duration;
    const pkg = packageOf(leaf.callFrame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + duration);
    /** @type {Set<string>} */
    const onStack = new Set();
    for (let id = /** @type {number | undefined} */ (leaf.id); id !== undefined; id = parents.get(id)) {
      const node = nodes.get(id);
      if (!node) break;
      const key = keyOf(node.callFrame);
      if (onStack.has(key)) continue; // recursion counts once
      onStack.add(key);
      entry(node.callFrame).inclusive += duration;
    }
  }
  const ms = (/** @type {number} */ us) => Math.round(us / 10) / 100;
  const percent = (/** @type {number} */ us) => (total === 0 ? 0 : Math.round((us / total) * 1000) / 10);
  const list = (/** @type {'self' | 'inclusive'} */ field) =>
    [...functions.values()]
      .filter(({ frame }) => field === 'self' || !frame.functionName.startsWith('('))
      .sort((a, b) => b[field] - a[field])
      .slice(0, top)
      .map(({ frame, ...times }) => ({
        name: frame.functionName || '(anonymous)',
        where: where(frame),
        package: packageOf(frame),
        ms: ms(times[field]),
        percent: percent(times[field]),
      }));
  return {
    totalMs: ms(total),
    samples: profile.samples.length,
    topSelf: list('self'),
    topInclusive: list('inclusive').filter((item) => item.name !== '(root)'),
    byPackage: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ package: name, ms: ms(us), percent: percent(us) })),
  };
}

/** @param {ProfileSummary} summary */
export function formatProfileSummary(summary) {
  const rows = (/** @type {Entry[]} */ entries) =>
    entries.map(
      (e) =>
        `  ${e.percent.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}  ${e.where}`,
    );
  return [
    `${summary.samples} samples, ${summary.totalMs.toFixed(0)} ms`,
    'Self time by package:',
    ...summary.byPackage
      .slice(0, 15)
      .map((p) => `  ${p.percent.toFixed(1).padStart(5)}%  ${p.ms.toFixed(0).padStart(7)} ms  ${p.package}`),
    'Top functions by self time:',
    ...rows(summary.topSelf),
    'Top functions by inclusive time:',
    ...rows(summary.topInclusive),
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  if (positionals.length === 0) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  for (const file of positionals) {
    /** @type {unknown} */
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    const profile = /** @type {CpuProfile} */ (parsed);
    console.log(`== ${file}`);
    console.log(formatProfileSummary(summariseProfile(profile, Number(values.top))));
  }
}
