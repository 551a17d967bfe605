// @ts-check
/**
 * What a running `npm run demo` tells the project's other commands (publish, token): its Kafka,
 * its topics and the key its gateway verifies tokens with. One file per demo, named after its
 * port and holding its process id, so a run only ever writes and removes its own.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const stateDir = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), '.cache', 'demo');

/**
 * @typedef {{
 *   pid: number, url: string, port: number, brokers: string, topics: string[],
 *   jwtSecret: string, jwtAudience: string, publishClaim: string, publishValue: string,
 * }} DemoState
 */

/** @param {number | string} port */
export const demoStateFile = (port) => join(stateDir, `${port}.json`);

/** @param {DemoState} state */
export function writeDemoState(state) {
  mkdirSync(stateDir, { recursive: true });
  // It holds the demo's signing key: for this user only.
  writeFileSync(demoStateFile(state.port), JSON.stringify(state), { mode: 0o600 });
}

/** Removes the state file of `port` if this process wrote it. @param {number} port */
export function removeOwnDemoState(port) {
  if (readState(demoStateFile(port))?.pid === process.pid) rmSync(demoStateFile(port), { force: true });
}

/**
 * The running demo: the one on PORT when set, else the only one running.
 * @returns {DemoState | undefined}
 * @throws {Error} when several run and PORT does not say which
 */
export function runningDemo(port = process.env.PORT) {
  if (port) {
    const state = readState(demoStateFile(port));
    return state && isAlive(state.pid) ? state : undefined;
  }
  let names;
  try {
    names = readdirSync(stateDir).filter((name) => name.endsWith('.json'));
  } catch {
    return undefined;
  }
  const running = names
    .map((name) => readState(join(stateDir, name)))
    .filter((state) => state !== undefined && isAlive(state.pid));
  if (running.length > 1) {
    throw new Error(
      `Several demos are running (ports ${running.map((state) => state?.port).join(', ')}): set PORT to pick one.`,
    );
  }
  return running[0];
}

/** @param {string} file @returns {DemoState | undefined} */
function readState(file) {
  try {
    const state = /** @type {unknown} */ (JSON.parse(readFileSync(file, 'utf8')));
    return /** @type {DemoState} */ (state);
  } catch {
    return undefined;
  }
}

/** @param {number} pid */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM';
  }
}
