// @ts-check
/**
 * Preloaded into the process under test (`node --import ./bench/heap-reporter.mjs dist/main.js`),
 * the gateway or the raw SSE floor alike, so the harness can see inside it without changing its
 * code. It answers over the IPC channel the harness opens when it spawns the process:
 *
 *   { benchProbe: 'memory' }              → { benchProbe: 'memory', memory: process.memoryUsage() },
 *                                           taken after two full garbage collections
 *   { benchProbe: 'profile-start' }       → starts the V8 CPU profiler (node:inspector, in-process)
 *   { benchProbe: 'profile-stop', file }  → stops it and writes `file` (.cpuprofile, Chrome format)
 *   { benchProbe: 'loop-start' }          → starts measuring event-loop delay (perf_hooks, 10 ms resolution)
 *   { benchProbe: 'loop-stop' }           → { benchProbe: 'loop-stop', maxMs, p99Ms } since loop-start
 *
 * The in-process profiler is used instead of `--cpu-prof`, which writes its profile only on a
 * normal exit, and the gateway ends by re-raising SIGTERM. When the harness goes away (its IPC
 * channel closes) the process is sent SIGTERM, so no benchmark target outlives a killed harness.
 *
 * Nothing here runs per request or per event; the only cost while measuring is an idle IPC pipe.
 */
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A `gc()` without starting the process with --expose-gc: the flag is set, then a fresh context has it. */
function loadGc() {
  try {
    setFlagsFromString('--expose-gc');
    const gc = /** @type {unknown} */ (runInNewContext('gc'));
    return typeof gc === 'function' ? /** @type {() => void} */ (gc) : undefined;
  } catch {
    return undefined;
  }
}

const gc = loadGc();
/** @type {Session | undefined} */
let session;
/** @type {import('node:perf_hooks').IntervalHistogram | undefined} */
let loopDelay;

/**
 * @param {Session} s
 * @param {string} method
 * @param {object} [params]
 * @returns {Promise<unknown>}
 */
function post(s, method, params = {}) {
  return new Promise((resolve, reject) =>
    s.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

/** @param {object} message */
function reply(message) {
  process.send?.(message);
}

/** @param {{ benchProbe?: unknown, file?: unknown, intervalUs?: unknown }} message */
async function handle(message) {
  switch (message.benchProbe) {
    case 'memory': {
      if (gc) {
        gc();
        gc();
      }
      reply({ benchProbe: 'memory', memory: process.memoryUsage(), gcForced: gc !== undefined });
      return;
    }
    case 'profile-start': {
      session = new Session();
      session.connect();
      await post(session, 'Profiler.enable');
      const interval = typeof message.intervalUs === 'number' ? message.intervalUs : 1000;
      await post(session, 'Profiler.setSamplingInterval', { interval });
      await post(session, 'Profiler.start');
      reply({ benchProbe: 'profile-start' });
      return;
    }
    case 'profile-stop': {
      if (!session) throw new Error('no profile is running');
      const { profile } = /** @type {{ profile: unknown }} */ (await post(session, 'Profiler.stop'));
      session.disconnect();
      session = undefined;
      if (typeof message.file === 'string') writeFileSync(message.file, JSON.stringify(profile));
      reply({ benchProbe: 'profile-stop', file: message.file });
      return;
    }
    case 'loop-start': {
      loopDelay?.disable();
      loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      reply({ benchProbe: 'loop-start' });
      return;
    }
    case 'loop-stop': {
      if (!loopDelay) throw new Error('no loop delay is measured');
      loopDelay.disable();
      reply({ benchProbe: 'loop-stop', maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 });
      loopDelay = undefined;
      return;
    }
    default:
      return;
  }
}

if (process.channel) {
  process.on('message', (/** @type {unknown} */ message) => {
    if (!message || typeof message !== 'object' || !('benchProbe' in message)) return;
    handle(/** @type {{ benchProbe?: unknown }} */ (message)).catch((/** @type {unknown} */ err) =>
      reply({ benchProbe: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
  });
  // The harness going away ends the target too, however the harness ended.
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 15_000).unref();
  });
  // The channel alone must not keep the process alive.
  process.channel.unref();
}
