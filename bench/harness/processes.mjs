// @ts-check
/**
 * Child processes of the benchmark: every one is registered, so it is ended however the harness
 * ends (normal end, failure, Ctrl-C, its own deadline), and the process under test (gateway or raw
 * floor) is wrapped with its probe (bench/heap-reporter.mjs) for memory and CPU profiles.
 */
import { fork, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** bench/, where the processes the harness starts live (load clients, probe, floors). */
export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const projectRoot = resolve(benchDir, '..');

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

/** @param {import('node:child_process').ChildProcess} child */
function register(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * `fork` that registers the child.
 * @param {string} modulePath
 * @param {string[]} args
 * @param {import('node:child_process').ForkOptions} options
 */
export function forkChild(modulePath, args, options) {
  return register(fork(modulePath, args, options));
}

/**
 * `spawn` that registers the child.
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} options
 */
export function spawnChild(command, args, options) {
  return register(spawn(command, args, options));
}

/**
 * Ends every child still running: SIGTERM, then SIGKILL after `graceMs`.
 * @param {number} [graceMs]
 */
export async function stopAllChildren(graceMs = 5000) {
  await Promise.all([...children].map((child) => stopChild(child, graceMs)));
}

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} [graceMs]
 * @param {NodeJS.Signals} [signal]
 */
export async function stopChild(child, graceMs = 5000, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}

/**
 * Last resort, synchronous (for `process.on('exit')`): SIGKILL every registered child, and every
 * other direct child of this process found in /proc (the embedded Kafka's JVM is one).
 */
export function killAllChildrenSync() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of directChildPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function directChildPids() {
  /** @type {number[]} */
  const pids = [];
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ")".
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * Polls `check` until it returns something other than undefined/false; fails after the deadline.
 * @template T
 * @param {() => T | undefined | false | Promise<T | undefined | false>} check
 * @param {string} what
 * @param {number} timeoutMs
 * @param {number} [intervalMs]
 * @returns {Promise<T>}
 */
export async function waitFor(check, what, timeoutMs, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((wake) => setTimeout(wake, ms));
}

/** Resident set size of a process, in bytes, from /proc (VmRSS). @param {number} pid */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux Node runs on. */
const CLOCK_TICKS = 100;

/** CPU time a process has used (user + system), in seconds, from /proc. @param {number} pid */
export function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state(0) ppid(1) … utime(11) stime(12)
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * Bytes and write system calls (write, writev) a process has made, from /proc/<pid>/io.
 * @param {number} pid
 */
export function ioOf(pid) {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (/** @type {string} */ name) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? NaN);
    return { writeCalls: field('syscw'), writtenBytes: field('wchar') };
  } catch {
    return { writeCalls: NaN, writtenBytes: NaN };
  }
}

/**
 * The Kafka broker's JVM, to account for its CPU: the child of this process running `kafka.Kafka`
 * (the embedded one) or, failing that, the only such process on the machine.
 * @returns {number | undefined}
 */
export function findKafkaPid() {
  /** @type {Array<{ pid: number, child: boolean }>} */
  const found = [];
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.split('\u0000').includes('kafka.Kafka')) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      found.push({ pid: Number(entry), child: ppid === process.pid });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return (found.find((item) => item.child) ?? (found.length === 1 ? found[0] : undefined))?.pid;
}

/**
 * @typedef {{ rss: number, heapTotal: number, heapUsed: number, external: number, arrayBuffers: number }} Memory
 */

/**
 * A process under test: the gateway (`node dist/main.js`) or the raw SSE floor, started with the
 * probe preloaded, its output in a log file, ready once it printed its address and its readiness
 * endpoint answers 200.
 */
export class TargetProcess {
  /** @type {import('node:child_process').ChildProcess} */
  child;
  url = '';
  /** Where its metrics and probes answer: its management port when it has one, else `url`. */
  managementUrl = '';
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  exited;
  #output = '';
  /** @type {Map<string, Array<(message: unknown) => void>>} */
  #waiting = new Map();

  /**
   * @param {{ name: string, script: string, nodeArgs: string[], env: NodeJS.ProcessEnv, logFile: string,
   *   startTimeoutMs: number }} options
   */
  static async start(options) {
    const target = new TargetProcess(options);
    try {
      await target.#ready(options.startTimeoutMs);
    } catch (err) {
      await target.stop();
      throw err;
    }
    return target;
  }

  /** @param {{ name: string, script: string, nodeArgs: string[], env: NodeJS.ProcessEnv, logFile: string }} options */
  constructor(options) {
    this.name = options.name;
    this.logFile = options.logFile;
    const probe = pathToFileURL(join(benchDir, 'heap-reporter.mjs')).href;
    const log = createWriteStream(options.logFile);
    this.child = spawnChild(process.execPath, ['--import', probe, ...options.nodeArgs, options.script], {
      cwd: projectRoot,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const take = (/** @type {Buffer} */ chunk) => {
      log.write(chunk);
      if (this.#output.length < 1_000_000) this.#output += chunk.toString();
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.exited = new Promise((done) =>
      this.child.once('exit', (code, signal) => {
        log.end();
        done({ code, signal });
      }),
    );
    this.child.on('message', (/** @type {unknown} */ message) => {
      const key = String(/** @type {{ benchProbe?: unknown }} */ (message ?? {}).benchProbe);
      const waiter = this.#waiting.get(key)?.shift();
      waiter?.(message);
    });
  }

  get pid() {
    return /** @type {number} */ (this.child.pid);
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process wrote, for error messages. */
  tail(lines = 15) {
    return this.#output
      .replace(/\u001b\[[0-9;]*m/g, '')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .join('\n');
  }

  /** @param {number} timeoutMs */
  async #ready(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    const exited = () => {
      if (!this.running) throw new Error(`${this.name} exited during start-up:\n${this.tail()}`);
    };
    const listening = await waitFor(
      () => {
        exited();
        return (
          /Listening on (http:\/\/[^\s,]+)(?:, management on (http:\/\/[^\s,]+))?/.exec(
            this.#output.replace(/\u001b\[[0-9;]*m/g, ''),
          ) ?? undefined
        );
      },
      `${this.name} to listen`,
      timeoutMs,
    );
    this.url = listening[1] ?? '';
    this.managementUrl = listening[2] ?? this.url;
    await waitFor(
      async () => {
        exited();
        const response = await fetch(`${this.managementUrl}/health/ready`).catch(() => undefined);
        await response?.body?.cancel();
        return response?.status === 200;
      },
      `${this.name} to be ready (GET /health/ready)`,
      Math.max(1000, deadline - Date.now()),
      200,
    );
  }

  /**
   * Asks the probe inside the process; resolves with its answer.
   * @param {object} request
   * @param {string} answer
   * @param {number} [timeoutMs]
   * @returns {Promise<unknown>}
   */
  #ask(request, answer, timeoutMs = 30_000) {
    return new Promise((resolveAnswer, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not answer ${answer}`)), timeoutMs);
      const queue = this.#waiting.get(answer) ?? [];
      this.#waiting.set(answer, queue);
      queue.push((message) => {
        clearTimeout(timer);
        resolveAnswer(message);
      });
      this.child.send(request);
    });
  }

  /**
   * Memory after two full garbage collections (probe), with VmRSS from /proc for comparison.
   * @returns {Promise<Memory & { procRss: number }>}
   */
  async memory() {
    const { memory } = /** @type {{ memory: Memory }} */ (
      await this.#ask({ benchProbe: 'memory' }, 'memory')
    );
    return { ...memory, procRss: rssOf(this.pid) };
  }

  cpuSeconds() {
    return cpuSecondsOf(this.pid);
  }

  io() {
    return ioOf(this.pid);
  }

  async loopDelayStart() {
    await this.#ask({ benchProbe: 'loop-start' }, 'loop-start');
  }

  /** @returns {Promise<{ maxMs: number, p99Ms: number }>} the event-loop delay since loopDelayStart */
  async loopDelayStop() {
    const { maxMs, p99Ms } = /** @type {{ maxMs: number, p99Ms: number }} */ (
      await this.#ask({ benchProbe: 'loop-stop' }, 'loop-stop')
    );
    return { maxMs, p99Ms };
  }

  async profileStart(intervalUs = 1000) {
    await this.#ask({ benchProbe: 'profile-start', intervalUs }, 'profile-start');
  }

  /** @param {string} file */
  async profileStop(file) {
    await this.#ask({ benchProbe: 'profile-stop', file }, 'profile-stop', 60_000);
  }

  /** SIGTERM (the gateway drains its streams, bounded by SHUTDOWN_TIMEOUT_MS), SIGKILL after 20 s. */
  async stop() {
    await stopChild(this.child, 20_000);
    return this.exited;
  }
}
