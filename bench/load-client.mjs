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
 *   → { cmd: 'ids' }                     ← { type: 'ids', ids: [user, last id][] } (tracked streams)
 *   → { cmd: 'tally', total, users }     ← { type: 'tally', ...Tally } (tracked streams)
 *   → { cmd: 'close' }                   destroys every stream, answers 'closed' and exits
 *   ← { type: 'progress', ...Progress }  every 100 ms
 *
 * Streams use plain `http.request`, and a parser that looks at as little as it can: it splits the
 * body into SSE blocks, keeps those that start with `event: <expected type>`, and reads the `"t":`
 * number out of their data (the producer's monotonic time stamp) to get the delivery latency.
 * Everything else (checkpoints, heartbeats, ids) is skipped.
 *
 * With `track` (the long-absence scenario), each stream also keeps the id of the last frame it got
 * (to resume from it later) and checks the per-user numbering of the `track` events it receives
 * (harness/numbering.mjs): numbers missing are lost, repeated duplicated, another user's misdelivered.
 */
import http from 'node:http';
import { signHs256 } from './harness/jwt.mjs';
import { expectedFor, Numbering } from './harness/numbering.mjs';
import { LatencyHistogram, monotonicMs } from './harness/stats.mjs';

/**
 * @typedef {{ host: string, port: number, path: string, localAddress: string, secret: string,
 *   userFrom: number, userTo: number, concurrency: number, tokenTtlSeconds: number,
 *   maxAttempts: number, lastEventId?: string, lastEventIds?: string[], track?: string }} OpenCommand
 *   `lastEventIds[user - userFrom]` is that stream's id to resume from, before `lastEventId`;
 *   `track` is the event type whose per-user numbering the streams check
 * @typedef {{ opened: number, failed: number, closed: number, attempts: number, delivered: number,
 *   refused: number, tracked: number, lastError: string | undefined }} Progress
 * @typedef {{ delivered: number, firstAt: number | undefined, lastAt: number | undefined,
 *   histogram: import('./harness/stats.mjs').SparseHistogram, idLength: number | undefined }} ClientStats
 * @typedef {{ streams: number, complete: number, lost: number, duplicated: number, outOfOrder: number,
 *   unexpected: number, misdelivered: number, resets: number, withoutId: number }} Tally
 * @typedef {{ user: number, lastId: string | undefined, numbering: Numbering, misdelivered: number,
 *   resets: number }} Tracked
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
  tracked: 0,
  lastError: undefined,
};
/** The tracked streams, by user. @type {Map<number, Tracked>} */
const tracked = new Map();
/** `event: <track>\n` once a stream tracks, else matching nothing. */
let trackPrefix = '\u0000';

/** @param {object} message */
function send(message) {
  if (process.connected) process.send?.(message);
}

/**
 * Counts the blocks of `text` that carry the expected event type; returns what is left over (an
 * incomplete block).
 * @param {string} text
 * @param {number} now
 * @param {Tracked | undefined} stream
 */
function consume(text, now, stream) {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n\n', start);
    if (end === -1) break;
    // A stream starts with a lone "\n" (sent with the headers), so a block may start with one.
    const blockStart = text.charCodeAt(start) === 10 ? start + 1 : start;
    if (stream) track(stream, text, blockStart, end);
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
 * A tracked stream's block text[start, end): its id, and its number when of the tracked type.
 * @param {Tracked} stream
 * @param {string} text
 * @param {number} start
 * @param {number} end
 */
function track(stream, text, start, end) {
  const id = text.indexOf('\nid: ', start);
  if (id !== -1 && id < end) {
    const eol = text.indexOf('\n', id + 1);
    stream.lastId = text.slice(id + 5, eol === -1 || eol > end ? end : eol);
  }
  if (text.startsWith('event: reset\n', start)) stream.resets++;
  if (!text.startsWith(trackPrefix, start)) return;
  const data = text.indexOf('\ndata: ', start);
  if (data === -1 || data > end) return;
  /** @type {unknown} */
  const parsed = JSON.parse(text.slice(data + 7, end));
  const { u, n } = /** @type {{ u: number, n: number }} */ (parsed);
  if (u !== stream.user) stream.misdelivered++;
  else if (stream.numbering.add(n)) progress.tracked++;
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
    const lastEventId = command.lastEventIds?.[user - command.userFrom] ?? command.lastEventId;
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
        ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
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
      /** @type {Tracked | undefined} */
      let stream;
      if (command.track !== undefined) {
        stream = { user, lastId: lastEventId, numbering: new Numbering(), misdelivered: 0, resets: 0 };
        tracked.set(user, stream);
      }
      response.on('data', (/** @type {string} */ chunk) => {
        rest = consume(rest.length === 0 ? chunk : rest + chunk, monotonicMs(), stream);
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

/**
 * The tracked streams' numbering against `total` records dealt round-robin over `users` users.
 * @param {number} total
 * @param {number} users
 * @returns {Tally}
 */
function tally(total, users) {
  const sum = {
    streams: 0,
    complete: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    unexpected: 0,
    misdelivered: 0,
    resets: 0,
    withoutId: 0,
  };
  for (const stream of tracked.values()) {
    const counts = stream.numbering.tally(expectedFor(total, users, stream.user));
    sum.streams++;
    if (counts.lost === 0) sum.complete++;
    sum.lost += counts.lost;
    sum.duplicated += counts.duplicated;
    sum.outOfOrder += counts.outOfOrder;
    sum.unexpected += counts.unexpected;
    sum.misdelivered += stream.misdelivered;
    sum.resets += stream.resets;
    if (stream.lastId === undefined) sum.withoutId++;
  }
  return sum;
}

function reportProgress() {
  progress.delivered = delivered;
  send({ type: 'progress', ...progress });
}

const ticker = setInterval(reportProgress, 100);

process.on('message', (/** @type {unknown} */ received) => {
  const message = /** @type {{ cmd?: unknown, eventType?: unknown }} */ (received ?? {});
  switch (message.cmd) {
    case 'open': {
      const command = /** @type {OpenCommand} */ (received);
      if (command.track !== undefined) trackPrefix = `event: ${command.track}\n`;
      void openAll(command);
      return;
    }
    case 'ids':
      send({ type: 'ids', ids: [...tracked.values()].map((stream) => [stream.user, stream.lastId]) });
      return;
    case 'tally': {
      const { total, users } = /** @type {{ total: number, users: number }} */ (received);
      send({ type: 'tally', ...tally(total, users) });
      return;
    }
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
