import { Backoff } from './backoff.js';
import type { Environment } from './environment.js';
import type { Feed, StreamState } from './feed.js';
import { SseConnection, type ConnectionEnd, type SseBlock } from './sse-connection.js';
import { fatalRefusal, StreamError } from './stream-error.js';
import { rotationDelay, tokenOf, type GetToken, type Token } from './token.js';

export type { StreamState } from './feed.js';

export interface StreamListener {
  /** An event or a reset (checkpoints are not passed on), and the last id after it. */
  block(block: SseBlock, lastEventId: string | undefined): void;
  /** A checkpoint moved the last id. */
  position(lastEventId: string): void;
  state(state: StreamState): void;
  /**
   * What went wrong while the stream went on: a token `getToken` could not give, or a refusal of
   * the connection that was to replace the stream (a rotation, or a topic change: then
   * `topicChange` says the topics it asked for, and the stream keeps those it has).
   */
  error(error: StreamError, topicChange?: { readonly topics: readonly string[] | undefined }): void;
}

export interface StreamOptions {
  readonly url: string;
  /** Undefined: every topic the user may read. */
  readonly topics: readonly string[] | undefined;
  readonly getToken: GetToken | undefined;
  /** The user the client serves (`iss` and `sub` of its first token): a token for another signs out. */
  readonly user: string | undefined;
  readonly credentials: RequestCredentials;
  readonly lastEventId: string | undefined;
  readonly retryMs: number;
  readonly maxRetryMs: number;
  /** The heartbeat interval assumed until the gateway gives its own. */
  readonly heartbeatMs: number;
}

type Purpose = 'connect' | 'rotate' | 'retopic';

/** One stream request: its connection, the token and topics it was opened with. */
interface Attempt {
  readonly purpose: Purpose;
  readonly topics: readonly string[] | undefined;
  readonly token: Token | undefined;
  /** Whether its token was asked for after a 401 (a second 401 is final). */
  readonly refreshed: boolean;
  connection?: SseConnection;
  opened: boolean;
}

/**
 * The application's stream over time: it reconnects with backoff from the last id, and moves to
 * a new connection without a gap when the token is about to expire or the topics change. The new
 * connection is opened from the current last id while the old one still runs; once it is open,
 * the old one is closed. What both delivered is dropped by the receiver (`DeliveredPositions`).
 * Only a refusal of the stream itself closes it: a refused replacement is reported, and the
 * stream it was to replace goes on.
 */
export class EventStream implements Feed {
  #primary: Attempt | undefined;
  #next: Attempt | undefined;
  /** Bumped to abandon an opening still waiting for its token: only the newest of each kind connects. */
  readonly #openings = { connect: 0, side: 0 };
  #lastId: string | undefined;
  #topics: readonly string[] | undefined;
  readonly #backoff: Backoff;
  #retryTimer: unknown;
  #retry: (() => void) | undefined;
  #rotationTimer: unknown;
  /** The gateway's clock minus this one, from the `Date` of the last stream that opened. */
  #skew = 0;
  #live = false;
  #paused = false;
  #stopped = false;

  readonly #options: StreamOptions;
  readonly #listener: StreamListener;
  readonly #env: Environment;

  constructor(options: StreamOptions, listener: StreamListener, env: Environment) {
    this.#options = options;
    this.#listener = listener;
    this.#env = env;
    this.#lastId = options.lastEventId;
    this.#topics = options.topics;
    this.#backoff = new Backoff(options.retryMs, options.maxRetryMs, env.random);
  }

  get lastEventId(): string | undefined {
    return this.#lastId;
  }

  /** The topics of the stream that runs (or that is being opened). */
  get streaming(): readonly string[] | undefined {
    return this.#primary?.topics ?? this.#topics;
  }

  start(): void {
    this.#listener.state({ status: 'connecting' });
    void this.#open('connect', false);
  }

  /** Streams these topics from now on, through a new connection opened before the old one closes. */
  setTopics(topics: readonly string[] | undefined): void {
    if (topicsKey(topics) === topicsKey(this.#topics)) return;
    this.#topics = topics;
    if (this.#primary?.opened) this.#switchTo('retopic');
    // A connection still opening switches once it is open (see opened).
  }

  stop(): void {
    this.#close({ status: 'closed' });
  }

  /** Lets the connection go (the page enters the back-forward cache); `resume` goes on from the last id. */
  pause(): void {
    if (this.#stopped || this.#paused) return;
    this.#paused = true;
    this.#live = false;
    this.#disconnect();
  }

  resume(): void {
    if (this.#stopped || !this.#paused) return;
    this.#paused = false;
    this.start();
  }

  /** The network is back, or the page is shown again: a reconnection waiting out its delay starts now. */
  wake(): void {
    const retry = this.#retry;
    if (!retry) return;
    this.#env.clearTimeout(this.#retryTimer);
    this.#retry = undefined;
    retry();
  }

  #switchTo(purpose: Purpose): void {
    this.#next?.connection?.close();
    this.#next = undefined;
    void this.#open(purpose, purpose === 'rotate');
  }

  async #open(purpose: Purpose, refresh: boolean): Promise<void> {
    const kind = purpose === 'connect' ? 'connect' : 'side';
    const opening = ++this.#openings[kind];
    const abandoned = () => this.#stopped || this.#paused || opening !== this.#openings[kind];
    let token: Token | undefined;
    if (this.#options.getToken) {
      let result;
      try {
        result = await this.#options.getToken({ refresh });
      } catch (error) {
        if (abandoned()) return;
        this.#listener.error(new StreamError('token-failed', 0, messageOf(error)));
        return this.#failed(purpose, { kind: 'lost', error });
      }
      if (abandoned()) return;
      token = result === null ? undefined : tokenOf(result);
      if (!token || (this.#options.user !== undefined && token.user !== this.#options.user)) {
        return this.#close({ status: 'signed-out' });
      }
    }
    const current = this.#primary?.token?.expiresAt;
    if (purpose === 'rotate' && current !== undefined && (token?.expiresAt ?? 0) <= current) {
      // No fresher token to be had: the gateway ends the stream at expiry and it resumes.
      return;
    }
    const attempt: Attempt = { purpose, topics: this.#topics, token, refreshed: refresh, opened: false };
    attempt.connection = new SseConnection(
      {
        url: streamUrl(this.#options.url, this.#topics),
        token: token?.value,
        lastEventId: this.#lastId,
        credentials: this.#options.credentials,
        livenessMs: 2 * this.#options.heartbeatMs,
      },
      {
        opened: (_heartbeatMs, serverTime) => this.#opened(attempt, serverTime),
        block: (block) => this.#received(attempt, block),
        retry: (ms) => this.#backoff.setBase(ms),
      },
      this.#env,
    );
    if (purpose === 'connect') this.#primary = attempt;
    else this.#next = attempt;
    const end = await attempt.connection.ended;
    this.#ended(attempt, end);
  }

  #opened(attempt: Attempt, serverTime: number | undefined): void {
    // A connection nobody waits for any more is closed at once, not left open unread.
    if (attempt !== this.#primary && attempt !== this.#next) return attempt.connection?.close();
    attempt.opened = true;
    if (serverTime !== undefined) this.#skew = serverTime - this.#env.now();
    if (attempt === this.#next) {
      const previous = this.#primary;
      this.#primary = attempt;
      this.#next = undefined;
      previous?.connection?.close();
    }
    this.#backoff.reset();
    if (!this.#live) {
      this.#live = true;
      this.#listener.state({ status: 'live' });
    }
    this.#scheduleRotation(attempt.token);
    if (topicsKey(attempt.topics) !== topicsKey(this.#topics)) this.#switchTo('retopic');
  }

  #received(attempt: Attempt, block: SseBlock): void {
    if (attempt !== this.#primary || this.#stopped) return;
    if (block.id !== undefined) this.#lastId = block.id;
    if (block.type === 'checkpoint') {
      if (block.id !== undefined) this.#listener.position(block.id);
      return;
    }
    this.#listener.block(block, this.#lastId);
  }

  #ended(attempt: Attempt, end: ConnectionEnd): void {
    if (this.#stopped || this.#paused || end.kind === 'closed') return;
    if (attempt === this.#next) {
      this.#next = undefined;
      if (this.#primary) return this.#failed(attempt.purpose, end, attempt.refreshed);
      // The stream it was to replace is gone meanwhile: this is now a reconnection.
      return this.#failed('connect', end, attempt.refreshed);
    }
    if (attempt !== this.#primary) return;
    this.#primary = undefined;
    this.#env.clearTimeout(this.#rotationTimer);
    if (this.#next) return; // The switch under way becomes the stream once it opens.
    this.#failed('connect', end, attempt.refreshed);
  }

  /** A connection that did not open, or dropped: retry, refresh the token, or give up. */
  #failed(purpose: Purpose, end: ConnectionEnd, refreshed = false): void {
    if (end.kind === 'refused') {
      if (end.status === 401 && this.#options.getToken && !refreshed) {
        void this.#open(purpose, true);
        return;
      }
      const refusal = fatalRefusal(end.status, end.message);
      if (refusal && purpose === 'connect') return this.#close({ status: 'closed', error: refusal });
      if (refusal && purpose === 'retopic') {
        const asked = this.#topics;
        this.#topics = this.#primary?.topics;
        return this.#listener.error(refusal, { topics: asked });
      }
      // A refused rotation: the stream goes on with its token, and the rotation is tried again.
      if (refusal) this.#listener.error(refusal);
    }
    const wanted =
      end.kind === 'refused' && end.retryAfterMs !== undefined ? end.retryAfterMs : this.#backoff.next();
    const inMs = Math.min(wanted, this.#options.maxRetryMs);
    const retry =
      purpose === 'connect' ? () => void this.#open('connect', false) : () => this.#switchTo(purpose);
    this.#env.clearTimeout(this.#retryTimer);
    this.#retry = retry;
    this.#retryTimer = this.#env.setTimeout(() => {
      this.#retry = undefined;
      retry();
    }, inMs);
    if (purpose !== 'connect') return; // The current stream still runs.
    this.#live = false;
    this.#listener.state({ status: 'reconnecting', inMs, cause: causeOf(end) });
  }

  #close(state: StreamState): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#disconnect();
    this.#listener.state(state);
  }

  #disconnect(): void {
    this.#env.clearTimeout(this.#retryTimer);
    this.#env.clearTimeout(this.#rotationTimer);
    this.#retry = undefined;
    this.#primary?.connection?.close();
    this.#next?.connection?.close();
    this.#primary = this.#next = undefined;
  }

  #scheduleRotation(token: Token | undefined): void {
    this.#env.clearTimeout(this.#rotationTimer);
    const delay = token && rotationDelay(token, this.#env.now() + this.#skew);
    if (delay === undefined) return;
    this.#rotationTimer = this.#env.setTimeout(() => {
      if (this.#primary?.opened && !this.#next) this.#switchTo('rotate');
    }, delay);
  }
}

function topicsKey(topics: readonly string[] | undefined): string {
  return topics === undefined ? '*' : [...topics].sort().join(',');
}

export function streamUrl(url: string, topics: readonly string[] | undefined): string {
  if (topics === undefined) return url;
  const separator = url.includes('?') ? '&' : '?';
  return `${url}${separator}topics=${[...topics].sort().map(encodeURIComponent).join(',')}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function causeOf(end: ConnectionEnd): string {
  switch (end.kind) {
    case 'refused':
      return `HTTP ${end.status}: ${end.message}`;
    case 'ended':
      return 'the gateway ended the stream';
    case 'lost':
      return messageOf(end.error);
    case 'silent':
      return 'no heartbeat';
    case 'closed':
      return 'closed';
  }
}
