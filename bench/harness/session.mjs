// @ts-check
/**
 * One run of an entry point (bench, ceiling, soak): its log, its clean-ups (released in reverse
 * order however it ends: normal end, failure, Ctrl-C, its overall deadline), its Kafka (embedded
 * unless KAFKA_BROKERS names one), the JWT secret its gateways and load clients share, and the
 * facts every results file starts with (machine, Node, git revision).
 *
 * Nothing happens on import: an entry point creates a Session in its `main` and hands its work to
 * `session.run`, which installs the signal handlers and the deadline and exits the process.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedKafka, KAFKA_VERSION } from '../../scripts/embedded-kafka.mjs';
import { splitList } from '../../scripts/kafka-topics.mjs';
import { ParamError } from './params.mjs';
import { findKafkaPid, killAllChildrenSync, projectRoot, sleep, stopAllChildren } from './processes.mjs';
import { monotonicMs } from './stats.mjs';

/** Whether the module at `url` is the script node was started with (`node bench/run.mjs`). @param {string} url */
export function isEntryPoint(url) {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(resolve(script)) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/** A count with thousands separators, or the value as text when it is not finite. @param {number} n */
export const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));

/** @param {number} value @param {number} digits */
export function round(value, digits) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** @param {unknown} err */
export function asError(err) {
  return err instanceof Error ? err : new Error(String(err));
}

export class Session {
  startedAt = new Date();
  started = monotonicMs();
  /** Shared by every gateway this run starts and every token its load clients sign. */
  secret = randomBytes(32).toString('base64url');
  /** The Kafka broker's process, when it can be found, for CPU accounting. */
  /** @type {number | undefined} */
  kafkaPid;
  /** @type {Array<{ what: string, run: () => Promise<unknown> }>} */
  #cleanups = [];
  #exiting = false;

  /**
   * @param {{ name: string, stamp: string, resultsDir: string, workDir: string, timeoutS: number }} options
   *   `name` prefixes every log line (`[bench 01:23] …`)
   */
  constructor({ name, stamp, resultsDir, workDir, timeoutS }) {
    this.name = name;
    this.stamp = stamp;
    this.resultsDir = resultsDir;
    this.workDir = workDir;
    this.timeoutS = timeoutS;
  }

  /** @param {string} line */
  log(line) {
    const seconds = Math.floor((monotonicMs() - this.started) / 1000);
    const clock = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
    console.log(`[${this.name} ${clock}] ${line}`);
  }

  /** Seconds since the run started. */
  get elapsedS() {
    return (monotonicMs() - this.started) / 1000;
  }

  /** True once the run is being stopped: loops end with {@link checkStopping}. */
  get stopping() {
    return this.#exiting;
  }

  checkStopping() {
    if (this.#exiting) throw new Error('stopping');
  }

  /**
   * Registers a release to run at clean-up; returns the function that runs it now instead.
   * @template T
   * @param {string} what
   * @param {() => Promise<T>} run
   * @returns {() => Promise<T>}
   */
  onCleanup(what, run) {
    const item = { what, run };
    this.#cleanups.push(item);
    return () => {
      const index = this.#cleanups.indexOf(item);
      if (index !== -1) this.#cleanups.splice(index, 1);
      return run();
    };
  }

  async cleanUp() {
    while (this.#cleanups.length > 0) {
      const item = /** @type {{ what: string, run: () => Promise<unknown> }} */ (this.#cleanups.pop());
      await Promise.race([
        item
          .run()
          .catch((/** @type {unknown} */ err) => this.log(`clean-up of ${item.what} failed: ${String(err)}`)),
        sleep(30_000),
      ]);
    }
    await stopAllChildren();
  }

  /** @param {string} reason @param {number} code */
  abort(reason, code) {
    if (this.#exiting) return;
    this.#exiting = true;
    console.error(`[${this.name}] ${reason}; stopping everything`);
    void this.cleanUp().finally(() => process.exit(code));
    setTimeout(() => process.exit(code), 45_000).unref();
  }

  /**
   * The broker: KAFKA_BROKERS, or an embedded one started now and stopped at clean-up.
   * @param {Record<string, string | undefined>} env
   */
  async kafka(env) {
    let brokers = splitList(env.KAFKA_BROKERS);
    const embedded = brokers.length === 0;
    if (embedded) {
      this.log(`starting the embedded Kafka ${KAFKA_VERSION}`);
      const kafka = await EmbeddedKafka.start();
      this.onCleanup('embedded Kafka', () => kafka.stop());
      brokers = kafka.brokers;
    }
    this.kafkaPid = findKafkaPid();
    return { brokers, embedded, version: embedded ? KAFKA_VERSION : 'external' };
  }

  /** What every results file starts with. */
  facts() {
    return {
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      wallSeconds: round(this.elapsedS, 1),
      machine: machineInfo(),
      node: process.version,
      git: gitInfo(),
    };
  }

  /** The results directory as the results file names it (relative to the project). */
  get resultsDirForResults() {
    return relative(projectRoot, this.resultsDir) || '.';
  }

  /**
   * Writes `<prefix><stamp>.json`, `<prefix><stamp>.md` and `<prefix>latest.md` to the results directory.
   * @param {string} prefix '' or 'ceiling-'
   * @param {object} results
   * @param {string} markdown
   */
  writeResults(prefix, results, markdown) {
    const jsonFile = join(this.resultsDir, `${prefix}${this.stamp}.json`);
    writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(this.resultsDir, `${prefix}${this.stamp}.md`), markdown);
    writeFileSync(join(this.resultsDir, `${prefix}latest.md`), markdown);
    return jsonFile;
  }

  /**
   * Runs `work` to its end: creates the output directories, installs the signal handlers and the
   * overall deadline, cleans up, and exits the process: 0 when `work` resolved, 1 when it threw,
   * or the code it resolved to, with its one-line verdict printed last (to stderr unless 0).
   * @param {() => Promise<{ code: number, line: string } | void>} work
   * @returns {Promise<never>}
   */
  async run(work) {
    process.on('SIGINT', () => this.abort('interrupted (SIGINT)', 130));
    process.on('SIGTERM', () => this.abort('terminated (SIGTERM)', 143));
    process.on('exit', killAllChildrenSync);
    const watchdog = setTimeout(
      () => this.abort(`overall deadline of ${this.timeoutS} s passed`, 1),
      this.timeoutS * 1000,
    );
    try {
      mkdirSync(this.workDir, { recursive: true });
      mkdirSync(this.resultsDir, { recursive: true });
      const outcome = await work();
      clearTimeout(watchdog);
      await this.cleanUp();
      this.log('done');
      if (outcome) (outcome.code === 0 ? console.log : console.error)(outcome.line);
      process.exit(outcome?.code ?? 0);
    } catch (err) {
      clearTimeout(watchdog);
      console.error(
        `[${this.name}] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      this.abort('failed', 1);
      return new Promise(() => {});
    }
  }
}

/**
 * Runs an entry point's `main`, turning a bad parameter into one plain line and exit code 2.
 * @param {string} name
 * @param {() => Promise<never>} main
 */
export function runEntryPoint(name, main) {
  main().catch((/** @type {unknown} */ err) => {
    if (!(err instanceof ParamError)) throw err;
    console.error(`[${name}] ${err.message}`);
    process.exit(2);
  });
}

function gitInfo() {
  const git = (/** @type {string[]} */ args) =>
    execFileSync('git', args, {
      cwd: projectRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    return {
      revision: git(['rev-parse', '--short', 'HEAD']),
      dirty: git(['status', '--porcelain']).length > 0,
    };
  } catch {
    return { revision: 'unknown', dirty: false };
  }
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
  };
}
