// @ts-check
/** The results `npm run bench` and `npm run bench:ceiling` leave in bench/results/. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(projectRoot, 'bench', 'results');

/**
 * The newest results file of a kind, parsed, or undefined.
 * @param {(name: string) => boolean} wanted
 * @param {(data: unknown) => boolean} [fits] what its content must be, too
 * @param {string} [dir]
 * @returns {{ file: string, data: unknown } | undefined}
 */
export function newestResult(wanted, fits = () => true, dir = RESULTS_DIR) {
  let names;
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json') && wanted(name));
  } catch {
    return undefined;
  }
  // Names start with an ISO time, so the last in order is the newest.
  for (const name of names.sort().reverse()) {
    const file = join(dir, name);
    /** @type {unknown} */
    let data;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // A run that was cut short: not a result.
    }
    if (fits(data)) return { file: relative(projectRoot, file), data };
  }
  return undefined;
}

/**
 * The standard `npm run bench` run: full, 10,000 streams. A 19k run's broadcast figures are set by
 * its load clients, and a smoke run's are noise.
 * @param {unknown} data
 */
export function isStandardRun(data) {
  const params = /** @type {{ params?: { mode?: string, streams?: number } } | null} */ (data)?.params;
  return params?.mode === 'full' && params.streams === 10_000;
}

/** The newest standard bench run, or undefined. */
export const newestStandardRun = () => newestResult((name) => !name.startsWith('ceiling-'), isStandardRun);
