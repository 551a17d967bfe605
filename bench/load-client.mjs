// @ts-check
/**
 * One load-generating process: holds many SSE streams (up to ~5,000; the open-file limit is per
 * process), each with its own user and JWT, all from one source address (127.0.0.x), so the
 * ~28k ephemeral ports of an address are never exhausted. Forked by bench/run.mjs, which drives
 * it over IPC:
 *
 *   → { cmd: 'open', ...OpenCommand }    opens the streams; progress is reported as they open
 *   → { cmd: 'expect', eventType }       counts only events of that type from now on, from zero
 *   → { cmd: 'stats' }                   ← { type: 'stats', ...ClientStats }
 *   → { cmd: 'close' }                   destroys every stream, answers 'closed' and exits
 *   ← { type: 'progress', ...Progress }  every 100 ms
 *
 * Streams use plain `http.request`, and a parser that looks at as little as it can: it splits the
 * body into SSE blocks, keeps those that start with `event: <expected type>`, and reads the `"t":`
 * number out of their data (the producer's monotonic time stamp) to get the delivery latency.
 * Everything else (checkpoints, heartbeats, ids) is skipped.
 */
import http from 'node:http';
import { signHs256 } from './harness/jwt.mjs';
import { LatencyHistogram, monotonicMs } from './harness/stats.mjs';

/**
 * @typedef {{ host: string, port: number, path: string, localAddress: string, secret: string,
 *   userFrom: number, userTo: number, concurrency: number, tokenTtlSeconds: number,
 *   maxAttempts: number, lastEventId?: string }} OpenCommand
 * @typedef {{ opened: number, failed: number, closed: number, attempts: number, delivered: number,
 *   refused: number, lastError: string | undefined }} Progress
 * @typedef {{ delivered: number, firstAt: number | undefined, lastAt: number | undefined,
 *   histogram: import('./harness/stats.mjs').SparseHistogram, idLength: number | undefined }} ClientStats
 */

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity, maxTotalSockets: Infinity });
/** @type {Set<http.ClientRequest>} */
const requests = new Set();
const histogram = new LatencyHistogram();
let closing = false;
let expectedPrefix = '\u0000'; // matches nothing until the harness says what to count
let delivered = 0;
/** @type {number | undefined} */
let firstAt;
/** @type {number | undefined} */
let lastAt;
/** The length of the `id:` field of the first counted event, for the report. */
/** @type {number | undefined} */
let idLength;
/** @type {Progress} */
const progress = {
  opened: 0,
  failed: 0,
  closed: 0,
  attempts: 0,
  delivered: 0,
  refused: 0,
  lastError: undefined,
};

/** @param {object} message */
function send(message) {
  if (process.connected) process.send?.(message);
}

/**
 * Counts the blocks of `text` that carry the expected event type; returns what is left over (an
 * incomplete block).
 * @param {string} text
 * @param {number} now
 */
function consume(text, now) {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n\n', start);
    if (end === -1) break;
    // A stream starts with a lone "\n" (sent with the headers), so a block may start with one.
    const blockStart = text.charCodeAt(start) === 10 ? start + 1 : start;
    if (text.startsWith(expectedPrefix, blockStart)) {
      const at = text.indexOf('"t":', blockStart);
      if (at !== -1 && at < end) {
        const t = parseFloat(text.slice(at + 4, at + 40));
        histogram.record(now - t);
        if (idLength === undefined) {
          const id = text.indexOf('\nid: ', blockStart);
          if (id !== -1 && id < end) idLength = text.indexOf('\n', id + 1) - id - 5;
        }
        delivered++;
        firstAt ??= now;
        lastAt = now;
      }
    }
    start = end + 2;
  }
  return start === text.length ? '' : text.slice(start);
}

/**
 * @param {OpenCommand} command
 * @param {number} user
 * @param {number} attempt
 * @returns {Promise<void>} settles once the stream is open (status 200) or has failed for good
 */
function openStream(command, user, attempt = 1) {
  return new Promise((settle) => {
    progress.attempts++;
    const token = signHs256(command.secret, `u${user}`, command.tokenTtlSeconds);
    let opened = false;
    const retryOrFail = (/** @type {string} */ reason, /** @type {number | undefined} */ retryAfterS) => {
      if (opened || closing) return;
      opened = true; // settled
      progress.lastError = reason;
      // A 429 says when to come back: that is a wait, not a failed attempt.
      if (retryAfterS !== undefined) {
        progress.refused++;
        setTimeout(
          () => void openStream(command, user, attempt).then(settle),
          retryAfterS * 1000 * (1 + Math.random()),
        );
      } else if (attempt < command.maxAttempts) {
        setTimeout(() => void openStream(command, user, attempt + 1).then(settle), 200 * attempt);
      } else {
        progress.failed++;
        settle();
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
        authorization: `Bearer ${token}`,
        accept: 'text/event-stream',
        ...(command.lastEventId === undefined ? {} : { 'last-event-id': command.lastEventId }),
      },
    });
    requests.add(request);
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        const retryAfter = Number(response.headers['retry-after']);
        response.resume();
        requests.delete(request);
        request.destroy();
        retryOrFail(
          `HTTP ${response.statusCode}`,
          response.statusCode === 429 && retryAfter > 0 ? retryAfter : undefined,
        );
        return;
      }
      opened = true;
      progress.opened++;
      settle();
      response.setEncoding('latin1');
      let rest = '';
      response.on('data', (/** @type {string} */ chunk) => {
        rest = consume(rest.length === 0 ? chunk : rest + chunk, monotonicMs());
      });
      response.on('close', () => {
        requests.delete(request);
        if (!closing) progress.closed++;
      });
    });
    request.on('error', (err) => {
      requests.delete(request);
      retryOrFail(err.message, undefined);
    });
    request.end();
  });
}

/** @param {OpenCommand} command */
async function openAll(command) {
  let next = command.userFrom;
  const worker = async () => {
    while (next < command.userTo && !closing) await openStream(command, next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, worker));
  send({ type: 'opened', opened: progress.opened, failed: progress.failed });
}

function reportProgress() {
  progress.delivered = delivered;
  send({ type: 'progress', ...progress });
}

const ticker = setInterval(reportProgress, 100);

process.on('message', (/** @type {unknown} */ received) => {
  const message = /** @type {{ cmd?: unknown, eventType?: unknown }} */ (received ?? {});
  switch (message.cmd) {
    case 'open':
      void openAll(/** @type {OpenCommand} */ (received));
      return;
    case 'expect':
      expectedPrefix = `event: ${String(message.eventType)}\n`;
      delivered = 0;
      firstAt = undefined;
      lastAt = undefined;
      histogram.reset();
      reportProgress();
      send({ type: 'expecting', eventType: message.eventType });
      return;
    case 'stats':
      send(
        /** @type {{ type: 'stats' } & ClientStats} */ ({
          type: 'stats',
          delivered,
          firstAt,
          lastAt,
          histogram: histogram.toSparse(),
          idLength,
        }),
      );
      return;
    case 'close':
      closing = true;
      clearInterval(ticker);
      for (const request of requests) request.destroy();
      requests.clear();
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
