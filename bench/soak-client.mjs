// @ts-check
/**
 * One process of the soak's load: holds many SSE streams (one per user, each with its own JWT,
 * from one source address) for as long as the soak runs, and behaves like a browser that keeps
 * them: when a stream ends it comes back after the `retry:` delay with its last id; 1% of the
 * streams a minute (by default) reconnect on purpose with their last id; a few streams stop
 * reading for part of every minute. It counts what every stream receives:
 *
 *   - the soak's events carry numbers: `data.b` for a broadcast (one sequence for everyone),
 *     `data.n["u<user>"]` for an event addressed to users (one sequence per user); a number seen
 *     twice is a duplicate, a number missing at the end a loss (bench/harness/soak-verdict.mjs
 *     decides which losses a `reset` excuses);
 *   - an event for another user (no number for this one) is a misdelivery;
 *   - `event: reset` is noted with its time: the gateway said the stream lost continuity.
 *
 * Driven by bench/soak.mjs over IPC, through bench/harness/load.mjs (the same commands and progress
 * as bench/load-client.mjs, plus its own):
 *
 *   → { cmd: 'open', ...OpenCommand }   opens the streams (users userFrom … userTo − 1)
 *   → { cmd: 'expect', eventType }      progress.delivered counts events of that type from now on
 *   → { cmd: 'start' }                  starts the reconnects on purpose and the slow readers' pauses
 *   → { cmd: 'target', host, port }     every (re)connection from now on goes there
 *   → { cmd: 'settle' }                 stops them: every stream reads and stays
 *   → { cmd: 'stats' }                  ← { type: 'stats', ...ClientStats } (latency of the soak's events)
 *   → { cmd: 'report' }                 ← { type: 'report', streams: StreamReport[] }
 *   → { cmd: 'close' }                  destroys every stream, answers 'closed' and exits
 *   ← { type: 'progress', ...SoakProgress } every 100 ms
 */
import http from 'node:http';
import { signHs256 } from './harness/jwt.mjs';
import { LatencyHistogram, monotonicMs } from './harness/stats.mjs';

/**
 * @typedef {{ host: string, port: number, path: string, localAddress: string, secret: string,
 *   userFrom: number, userTo: number, concurrency: number, tokenTtlSeconds: number, maxAttempts: number,
 *   slowUsers: number[], reconnectPercentPerMinute: number, slowPauseS: number }} OpenCommand
 * @typedef {{ next: number, above: number[] }} TallyReport
 * @typedef {{ user: number, personal: TallyReport, broadcast: TallyReport, duplicates: number,
 *   duplicateSamples: string[], misdelivered: number, resets: Array<{ at: number, reason: string }>,
 *   opens: number, plannedReconnects: number, serverCloses: number, refusals: number, errors: number }} StreamReport
 * @typedef {import('./harness/load.mjs').Progress & { unique: number, duplicates: number, misdelivered: number,
 *   resets: number, plannedReconnects: number, serverCloses: number, connected: number, paused: number }} SoakProgress
 */

/** Numbers seen of one sequence: all below `next`, and those above it that came early. */
class Tally {
  next = 0;
  /** @type {Set<number>} */
  above = new Set();

  /** @param {number} n @returns {boolean} false when `n` was seen before */
  take(n) {
    if (n < this.next || this.above.has(n)) return false;
    if (n === this.next) {
      this.next++;
      while (this.above.delete(this.next)) this.next++;
    } else {
      this.above.add(n);
    }
    return true;
  }

  get unique() {
    return this.next + this.above.size;
  }

  /** @returns {TallyReport} */
  report() {
    return { next: this.next, above: [...this.above].sort((a, b) => a - b) };
  }
}

/** One user's stream, across its connections. */
class Stream {
  personal = new Tally();
  broadcast = new Tally();
  duplicates = 0;
  /** @type {string[]} */
  duplicateSamples = [];
  misdelivered = 0;
  /** @type {Array<{ at: number, reason: string }>} */
  resets = [];
  /** @type {string | undefined} */
  lastId;
  retryMs = 2000;
  opens = 0;
  plannedReconnects = 0;
  serverCloses = 0;
  refusals = 0;
  errors = 0;
  /** @type {http.ClientRequest | undefined} */
  request;
  /** @type {http.IncomingMessage | undefined} */
  response;
  connected = false;
  paused = false;

  /** @param {number} user @param {boolean} slow */
  constructor(user, slow) {
    this.user = user;
    this.key = `u${user}`;
    this.slow = slow;
  }
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity, maxTotalSockets: Infinity });
const histogram = new LatencyHistogram();
/** @type {Stream[]} */
const streams = [];
/** @type {OpenCommand | undefined} */
let settings;
let closing = false;
let churning = false;
/** @type {Set<NodeJS.Timeout>} */
const timers = new Set();
let expectedType = '\u0000';
let delivered = 0;
/** @type {number | undefined} */
let firstAt;
/** @type {number | undefined} */
let lastAt;
const progress = {
  opened: 0,
  failed: 0,
  closed: 0,
  attempts: 0,
  refused: 0,
  lastError: /** @type {string | undefined} */ (undefined),
};

/** @param {object} message */
function send(message) {
  if (process.connected) process.send?.(message);
}

/**
 * One SSE message of a stream (a block up to a blank line), as an EventSource reads it: `id`
 * becomes the last id whether or not the message carries data.
 * @param {Stream} stream
 * @param {string} block
 */
function dispatch(stream, block) {
  let event = 'message';
  let data = '';
  let hasData = false;
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (field === 'event') event = value;
    else if (field === 'data') {
      data = hasData ? `${data}\n${value}` : value;
      hasData = true;
    } else if (field === 'id' && !value.includes('\u0000')) stream.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) stream.retryMs = Number(value);
  }
  if (!hasData) return;
  const now = monotonicMs();
  if (event === 'reset') {
    stream.resets.push({ at: now, reason: reasonOf(data) });
    return;
  }
  if (event === expectedType && event !== 'soak') delivered++;
  if (event !== 'soak') return;
  /** @type {unknown} */
  const parsed = JSON.parse(data);
  const payload = /** @type {{ t?: unknown, b?: unknown, n?: Record<string, unknown> }} */ (parsed);
  const mine = typeof payload.b === 'number' ? payload.b : payload.n?.[stream.key];
  if (typeof mine !== 'number') {
    stream.misdelivered++;
    return;
  }
  const tally = typeof payload.b === 'number' ? stream.broadcast : stream.personal;
  if (!tally.take(mine)) {
    stream.duplicates++;
    if (stream.duplicateSamples.length < 5)
      stream.duplicateSamples.push(`${tally === stream.broadcast ? 'broadcast' : 'personal'} #${mine}`);
    return;
  }
  if (typeof payload.t === 'number') histogram.record(now - payload.t);
  if (expectedType === 'soak') delivered++;
  firstAt ??= now;
  lastAt = now;
}

/** @param {string} data */
function reasonOf(data) {
  try {
    /** @type {unknown} */
    const parsed = JSON.parse(data);
    const reason = /** @type {{ reason?: unknown } | null} */ (parsed)?.reason;
    return typeof reason === 'string' ? reason : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * (Re)connects a stream, resuming from its last id; settles once it is open, or, on a first
 * connection, once it has failed `maxAttempts` times. A reconnection never gives up.
 * @param {Stream} stream
 * @param {number} attempt
 * @returns {Promise<void>}
 */
function connect(stream, attempt = 1) {
  const command = /** @type {OpenCommand} */ (settings);
  return new Promise((settle) => {
    if (closing) return settle();
    progress.attempts++;
    let answered = false;
    const again = (/** @type {number} */ delayMs, /** @type {number} */ nextAttempt) =>
      void later(delayMs, () => connect(stream, nextAttempt).then(settle));
    const failed = (/** @type {string} */ reason, /** @type {number | undefined} */ retryAfterS) => {
      if (answered || closing) return;
      answered = true;
      stream.request = undefined;
      progress.lastError = reason;
      if (retryAfterS !== undefined) {
        // Told when to come back (429, 503): a wait, not a failed attempt.
        stream.refusals++;
        progress.refused++;
        again(retryAfterS * 1000 * (1 + Math.random()), attempt);
      } else if (stream.opens === 0 && attempt >= command.maxAttempts) {
        progress.failed++;
        settle();
      } else {
        stream.errors++;
        again(Math.min(5000, 200 * attempt), attempt + 1);
      }
    };
    const request = http.request({
      host: command.host,
      port: command.port,
      path: command.path,
      method: 'GET',
      agent,
      localAddress: command.localAddress,
      headers: {
        authorization: `Bearer ${signHs256(command.secret, stream.key, command.tokenTtlSeconds)}`,
        accept: 'text/event-stream',
        ...(stream.lastId === undefined ? {} : { 'last-event-id': stream.lastId }),
      },
    });
    stream.request = request;
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        const retryAfter = Number(response.headers['retry-after']);
        response.resume();
        request.destroy();
        failed(`HTTP ${response.statusCode}`, retryAfter > 0 ? retryAfter : undefined);
        return;
      }
      answered = true;
      if (stream.opens++ === 0) progress.opened++;
      stream.response = response;
      stream.connected = true;
      settle();
      response.setEncoding('utf8');
      let rest = '';
      response.on('data', (/** @type {string} */ chunk) => {
        rest += chunk;
        let end;
        while ((end = rest.indexOf('\n\n')) !== -1) {
          // A stream starts with a lone "\n" (sent with the headers), so a block may start with one.
          const block = rest.slice(rest.charCodeAt(0) === 10 ? 1 : 0, end);
          rest = rest.slice(end + 2);
          if (block !== '') dispatch(stream, block);
        }
      });
      response.on('close', () => {
        if (stream.request !== request) return; // replaced on purpose
        stream.connected = false;
        stream.response = undefined;
        stream.request = undefined;
        if (closing) return;
        stream.serverCloses++;
        progress.closed++;
        // As EventSource does: back after the retry delay, with the last id.
        later(stream.retryMs + Math.random() * 1000, () => connect(stream));
      });
    });
    // After a response, its close event handles the end; before one, this is a failed attempt.
    request.on('error', (err) => failed(err.message, undefined));
    request.end();
  });
}

/** @param {number} ms @param {() => Promise<void> | void} run */
function later(ms, run) {
  const timer = setTimeout(() => {
    timers.delete(timer);
    if (!closing) void run();
  }, ms);
  timers.add(timer);
}

/** Ends a connected stream on purpose and comes back with its last id a second or two later. @param {Stream} stream */
function reconnectOnPurpose(stream) {
  const request = stream.request;
  if (!stream.connected || !request) return;
  stream.plannedReconnects++;
  stream.connected = false;
  stream.response = undefined;
  stream.request = undefined;
  request.destroy();
  later(1000 + Math.random() * 1000, () => connect(stream));
}

/** The reconnects on purpose and the slow readers' pauses, until `settle`. */
function startChurn() {
  const command = /** @type {OpenCommand} */ (settings);
  churning = true;
  const perMinute = (streams.length * command.reconnectPercentPerMinute) / 100;
  if (perMinute > 0) {
    const tick = () => {
      if (!churning) return;
      const candidates = streams.filter((stream) => stream.connected && !stream.slow);
      const chosen = candidates[Math.floor(Math.random() * candidates.length)];
      if (chosen) reconnectOnPurpose(chosen);
      later(60_000 / perMinute, tick);
    };
    later(Math.random() * (60_000 / perMinute), tick);
  }
  for (const stream of streams.filter((s) => s.slow)) {
    const cycle = () => {
      if (!churning) return;
      stream.paused = true;
      stream.response?.pause();
      later(command.slowPauseS * 1000, () => {
        stream.paused = false;
        stream.response?.resume();
        later((60 - command.slowPauseS) * 1000, cycle);
      });
    };
    later(Math.random() * 60_000, cycle);
  }
}

function settleChurn() {
  churning = false;
  for (const stream of streams) {
    if (!stream.paused) continue;
    stream.paused = false;
    stream.response?.resume();
  }
}

/** @param {OpenCommand} command */
async function openAll(command) {
  settings = command;
  const slow = new Set(command.slowUsers);
  for (let user = command.userFrom; user < command.userTo; user++)
    streams.push(new Stream(user, slow.has(user)));
  let next = 0;
  const worker = async () => {
    while (next < streams.length && !closing) await connect(/** @type {Stream} */ (streams[next++]));
  };
  await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, worker));
}

/** @returns {SoakProgress} */
function currentProgress() {
  let unique = 0;
  let duplicates = 0;
  let misdelivered = 0;
  let resets = 0;
  let plannedReconnects = 0;
  let serverCloses = 0;
  let connected = 0;
  let paused = 0;
  for (const stream of streams) {
    unique += stream.personal.unique + stream.broadcast.unique;
    duplicates += stream.duplicates;
    misdelivered += stream.misdelivered;
    resets += stream.resets.length;
    plannedReconnects += stream.plannedReconnects;
    serverCloses += stream.serverCloses;
    if (stream.connected) connected++;
    if (stream.paused) paused++;
  }
  return {
    ...progress,
    delivered,
    tracked: 0, // the load client's long-absence check; the soak counts its own
    unique,
    duplicates,
    misdelivered,
    resets,
    plannedReconnects,
    serverCloses,
    connected,
    paused,
  };
}

const ticker = setInterval(() => send({ type: 'progress', ...currentProgress() }), 100);

process.on('message', (/** @type {unknown} */ received) => {
  const message = /** @type {{ cmd?: unknown, eventType?: unknown, host?: unknown, port?: unknown }} */ (
    received ?? {}
  );
  switch (message.cmd) {
    case 'open':
      void openAll(/** @type {OpenCommand} */ (received));
      return;
    case 'expect':
      expectedType = String(message.eventType);
      delivered = 0;
      firstAt = undefined;
      lastAt = undefined;
      histogram.reset();
      send({ type: 'progress', ...currentProgress() });
      send({ type: 'expecting', eventType: message.eventType });
      return;
    case 'start':
      startChurn();
      send({ type: 'started' });
      return;
    case 'target':
      if (settings) settings = { ...settings, host: String(message.host), port: Number(message.port) };
      send({ type: 'targeted' });
      return;
    case 'settle':
      settleChurn();
      send({ type: 'settled' });
      return;
    case 'stats':
      send({
        type: 'stats',
        delivered,
        firstAt,
        lastAt,
        histogram: histogram.toSparse(),
        idLength: undefined,
      });
      return;
    case 'report':
      send({
        type: 'report',
        streams: streams.map(
          (stream) =>
            /** @type {StreamReport} */ ({
              user: stream.user,
              personal: stream.personal.report(),
              broadcast: stream.broadcast.report(),
              duplicates: stream.duplicates,
              duplicateSamples: stream.duplicateSamples,
              misdelivered: stream.misdelivered,
              resets: stream.resets,
              opens: stream.opens,
              plannedReconnects: stream.plannedReconnects,
              serverCloses: stream.serverCloses,
              refusals: stream.refusals,
              errors: stream.errors,
            }),
        ),
      });
      return;
    case 'close':
      closing = true;
      churning = false;
      clearInterval(ticker);
      for (const timer of timers) clearTimeout(timer);
      for (const stream of streams) stream.request?.destroy();
      agent.destroy();
      send({ type: 'closed' });
      setTimeout(() => process.exit(0), 50);
      return;
    default:
      return;
  }
});

// The harness went away: nothing to report to.
process.on('disconnect', () => process.exit(0));
