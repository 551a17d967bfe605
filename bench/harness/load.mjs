// @ts-check
/**
 * The load: several bench/load-client.mjs processes, each holding a share of the streams from a
 * source address of its own (127.0.0.2, 127.0.0.3, …), driven and summed up here.
 */
import { join } from 'node:path';
import { benchDir, forkChild, stopChild, waitFor } from './processes.mjs';
import { LatencyHistogram } from './stats.mjs';

/**
 * @typedef {import('../load-client.mjs').Progress} Progress
 * @typedef {import('../load-client.mjs').ClientStats} ClientStats
 */

/** Source addresses 127.0.0.2 … 127.0.0.254; each has ~28k ephemeral ports. */
const FIRST_SOURCE_HOST = 2;
const LAST_SOURCE_HOST = 254;

class LoadClient {
  /** @type {Progress} */
  progress = {
    opened: 0,
    failed: 0,
    closed: 0,
    attempts: 0,
    delivered: 0,
    refused: 0,
    tracked: 0,
    lastError: undefined,
  };
  /** @type {Map<string, Array<(message: unknown) => void>>} */
  #waiting = new Map();

  /** @param {number} index @param {string} script the client process, in bench/ */
  constructor(index, script) {
    this.index = index;
    this.child = forkChild(join(benchDir, script), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A client holds thousands of sockets: a larger young generation spares it scavenges.
      execArgv: ['--max-semi-space-size=16'],
    });
    this.child.on('message', (/** @type {unknown} */ received) => {
      const message = /** @type {{ type?: unknown }} */ (received ?? {});
      if (message.type === 'progress') this.progress = /** @type {Progress} */ (received);
      const waiter = this.#waiting.get(String(message.type))?.shift();
      waiter?.(received);
    });
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * @param {object} command
   * @param {string} answer
   * @param {number} timeoutMs
   * @returns {Promise<unknown>}
   */
  ask(command, answer, timeoutMs) {
    return new Promise((resolveAnswer, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`load client ${this.index} did not answer '${answer}' in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const queue = this.#waiting.get(answer) ?? [];
      this.#waiting.set(answer, queue);
      queue.push((message) => {
        clearTimeout(timer);
        resolveAnswer(message);
      });
      if (!this.running) {
        clearTimeout(timer);
        reject(new Error(`load client ${this.index} is not running`));
        return;
      }
      this.child.send(command);
    });
  }
}

export class Load {
  /** @type {LoadClient[]} */
  clients = [];

  /**
   * `firstUser` and `firstSourceHost` let several loads run side by side (one per gateway
   * instance, bench/ceiling.mjs) with users and source addresses of their own.
   * `script` is the client process (bench/load-client.mjs unless the soak's): it answers the same
   * commands and reports the same progress.
   * @param {{ streams: number, clients: number, concurrency: number, secret: string,
   *   tokenTtlSeconds: number, firstUser?: number, firstSourceHost?: number, script?: string }} options
   */
  constructor(options) {
    this.options = options;
    this.firstUser = options.firstUser ?? 0;
    this.firstSourceHost = options.firstSourceHost ?? FIRST_SOURCE_HOST;
    if (this.firstSourceHost + options.clients - 1 > LAST_SOURCE_HOST)
      throw new Error('too many load clients');
  }

  /** Sums of the latest progress of every client. */
  get progress() {
    const sum = {
      opened: 0,
      failed: 0,
      closed: 0,
      attempts: 0,
      delivered: 0,
      refused: 0,
      tracked: 0,
      lastError: /** @type {string | undefined} */ (undefined),
    };
    for (const { progress } of this.clients) {
      sum.refused += progress.refused;
      sum.opened += progress.opened;
      sum.failed += progress.failed;
      sum.closed += progress.closed;
      sum.attempts += progress.attempts;
      sum.delivered += progress.delivered;
      sum.tracked += progress.tracked;
      sum.lastError = progress.lastError ?? sum.lastError;
    }
    return sum;
  }

  /**
   * Forks the clients and opens every stream: users u<firstUser> … u<firstUser + N - 1>, spread evenly.
   * @param {URL} url the target's /events
   * @param {number} timeoutMs
   * @param {(progress: Load['progress']) => void} onTick
   * @param {{ lastEventId?: string, lastEventIds?: string[], track?: string, concurrency?: number,
   *   command?: object }} [resume] every stream resumes from `lastEventId`, or from its own
   *   `lastEventIds[user - firstUser]`; `track` is the event type whose per-user numbering the
   *   streams check (see load-client.mjs); `command` adds to what each client is told (the soak
   *   client's settings)
   */
  async open(url, timeoutMs, onTick, resume = {}) {
    const { streams, clients, concurrency, secret, tokenTtlSeconds } = this.options;
    const perClient = Math.ceil(streams / clients);
    for (let index = 0; index < clients; index++) {
      const userFrom = this.firstUser + index * perClient;
      const userTo = Math.min(this.firstUser + streams, userFrom + perClient);
      if (userFrom >= userTo) break;
      const client = new LoadClient(index, this.options.script ?? 'load-client.mjs');
      this.clients.push(client);
      client.child.send({
        cmd: 'open',
        host: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        localAddress: `127.0.0.${this.firstSourceHost + index}`,
        secret,
        userFrom,
        userTo,
        concurrency: resume.concurrency ?? concurrency,
        tokenTtlSeconds,
        maxAttempts: 5,
        ...(resume.lastEventId === undefined ? {} : { lastEventId: resume.lastEventId }),
        ...(resume.lastEventIds === undefined
          ? {}
          : { lastEventIds: resume.lastEventIds.slice(userFrom - this.firstUser, userTo - this.firstUser) }),
        ...(resume.track === undefined ? {} : { track: resume.track }),
        ...resume.command,
      });
    }
    const ticker = setInterval(() => onTick(this.progress), 1000);
    try {
      await waitFor(
        () => {
          const progress = this.progress;
          if (this.clients.some((client) => !client.running)) throw new Error('a load client exited');
          return progress.opened + progress.failed >= streams;
        },
        `${streams} streams to open`,
        timeoutMs,
      );
    } finally {
      clearInterval(ticker);
    }
    const { opened, failed, lastError } = this.progress;
    if (failed > 0)
      throw new Error(`${failed} of ${streams} streams failed to open (last error: ${lastError})`);
    return opened;
  }

  /**
   * Counts only events of this type from now on, from zero, in every client.
   * @param {string} eventType
   */
  async expect(eventType) {
    await Promise.all(
      this.clients.map((client) => client.ask({ cmd: 'expect', eventType }, 'expecting', 10_000)),
    );
    for (const client of this.clients) client.progress = { ...client.progress, delivered: 0 };
  }

  /** Deliveries, first and last receipt and the latency histogram, summed over the clients. */
  async stats() {
    const answers = /** @type {ClientStats[]} */ (
      await Promise.all(this.clients.map((client) => client.ask({ cmd: 'stats' }, 'stats', 30_000)))
    );
    const histogram = new LatencyHistogram();
    let delivered = 0;
    /** @type {number | undefined} */
    let idLength;
    /** @type {number | undefined} */
    let firstAt;
    /** @type {number | undefined} */
    let lastAt;
    for (const answer of answers) {
      delivered += answer.delivered;
      idLength ??= answer.idLength;
      histogram.add(answer.histogram);
      if (answer.firstAt !== undefined) firstAt = Math.min(firstAt ?? Infinity, answer.firstAt);
      if (answer.lastAt !== undefined) lastAt = Math.max(lastAt ?? -Infinity, answer.lastAt);
    }
    return { delivered, firstAt, lastAt, histogram, idLength };
  }

  /**
   * The id of the last frame each tracked stream received (or resumed from), indexed by user − firstUser.
   * @returns {Promise<Array<string | undefined>>}
   */
  async lastIds() {
    const answers = /** @type {Array<{ ids: Array<[number, string | undefined]> }>} */ (
      await Promise.all(this.clients.map((client) => client.ask({ cmd: 'ids' }, 'ids', 30_000)))
    );
    /** @type {Array<string | undefined>} */
    const ids = Array.from({ length: this.options.streams });
    for (const { ids: pairs } of answers) for (const [user, id] of pairs) ids[user - this.firstUser] = id;
    return ids;
  }

  /**
   * The tracked streams' numbering summed over the clients, against `total` records dealt
   * round-robin over `users` users (harness/numbering.mjs).
   * @param {number} total
   * @param {number} users
   */
  async tally(total, users) {
    const answers = /** @type {Array<import('../load-client.mjs').Tally>} */ (
      await Promise.all(
        this.clients.map((client) => client.ask({ cmd: 'tally', total, users }, 'tally', 60_000)),
      )
    );
    /** @type {import('../load-client.mjs').Tally} */
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
    for (const answer of answers) {
      for (const key of /** @type {Array<keyof typeof sum>} */ (Object.keys(sum))) sum[key] += answer[key];
    }
    return sum;
  }

  /** Closes every stream and ends the clients. */
  async close() {
    await Promise.all(
      this.clients.map(async (client) => {
        if (client.running) await client.ask({ cmd: 'close' }, 'closed', 15_000).catch(() => undefined);
        await stopChild(client.child, 5000);
      }),
    );
    this.clients = [];
  }
}
