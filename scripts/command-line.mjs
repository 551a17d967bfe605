// @ts-check
/**
 * The command line of the project's own commands (`npm run publish`, `npm run token`, `npm run
 * demo`): `--help` prints the usage, and a bad argument gets one line, never a stack.
 */
import { parseArgs } from 'node:util';

/**
 * @template {import('node:util').ParseArgsConfig['options']} T
 * @param {T} options
 * @param {string} usage printed for --help
 * @param {string[]} [args]
 */
export function commandLine(options, usage, args = process.argv.slice(2)) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
  } catch (err) {
    fail(`${err instanceof Error ? err.message.split('\n')[0] : String(err)} (see --help)`);
  }
  if (/** @type {{ help?: boolean }} */ (parsed.values).help) {
    console.log(usage.trim());
    process.exit(0);
  }
  return /** @type {{ [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string }} */ (
    parsed.values
  );
}

/**
 * One line on stderr, then exit: 2 for what the person typed, 1 for what the world refused.
 * @param {string} message
 * @param {number} [code]
 * @returns {never}
 */
export function fail(message, code = 2) {
  console.error(message);
  process.exit(code);
}
