// @ts-check
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The node flags the gateway runs with in production, those of `npm start` (the Dockerfile's CMD
 * is checked to match): for whatever else starts `dist/main.js`, the demo and the bench.
 * @returns {string[]}
 */
export function productionNodeFlags() {
  /** @type {unknown} */
  const parsed = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  const manifest = /** @type {{ scripts: { start: string } }} */ (parsed);
  return manifest.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

/**
 * The flags given in `override` (a space-separated list, empty for none), or `npm start`'s.
 * @param {string | undefined} override
 */
export function nodeFlagsOr(override) {
  return override === undefined ? productionNodeFlags() : override.split(/\s+/).filter(Boolean);
}
