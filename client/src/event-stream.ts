import { Backoff } from './backoff.js';
import type { Environment } from './environment.js';
import { SseConnection, type ConnectionEnd, type SseBlock } from './sse-connection.js';
import { fatalRefusal, StreamError } from './stream-error.js';
import { rotationAt, tokenOf, type GetToken, type Token } from './token.js';

/** The state of the stream, as the application sees it. */
export type StreamState =
  | { readonly status: 'connecting' }
  | { readonly status: 'live' }
  /** The stream dropped; the next attempt starts in `inMs`. */
  | { readonly status: 'reconnecting'; readonly inMs: number; readonly cause: string }
  /** Closed by `close()`, or given up with `error`. */
  | { readonly status: 'closed'; readonly error?: StreamError };

export interface StreamListener {
  /** An event or a reset (checkpoints are not passed on), and the last id after it. */
  block(block: SseBlock, lastEventId: string | undefined): void;
  /** A checkpoint moved the last id. */
  position(lastEventId: string): void;
  state(state: StreamState): void;
}

export interface StreamOptions {
  readonly url: string;
  /** Undefined: every topic the user may read. */
  readonly topics: readonly string[] | undefined;
  readonly getToken: GetToken | undefined;
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
 */
export class EventStream {
  private primary: Attempt | undefined;
  private next: Attempt | undefined;
  private lastId: string | undefined;
  private topics: readonly string[] | undefined;
  private readonly backoff: Backoff;
  private retryTimer: unknown;
  private rotationTimer: unknown;
  private live = false;
  private stopped = false;

  constructor(
    private readonly options: StreamOptions,
    private readonly listener: StreamListener,
    private readonly env: Environment,
  ) {
    this.lastId = options.lastEventId;
    this.topics = options.topics;
    this.backoff = new Backoff(options.retryMs, options.maxRetryMs, env.random);
  }

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  start(): void {
    this.listener.state({ status: 'connecting' });
    void this.open('connect', false);
  }

  /** Streams these topics from now on, through a new connection opened before the old one closes. */
  setTopics(topics: readonly string[] | undefined): void {
    if (topicsKey(topics) === topicsKey(this.topics)) return;
    this.topics = topics;
    if (this.primary?.opened) this.switchTo('retopic');
    // A connection still opening switches once it is open (see opened).
  }

  stop(): void {
    this.close();
  }

  private switchTo(purpose: Purpose): void {
    this.next?.connection?.close();
    this.next = undefined;
    void this.open(purpose, purpose === 'rotate');
  }

  private async open(purpose: Purpose, refresh: boolean): Promise<void> {
    let token: Token | undefined;
    if (this.options.getToken) {
      try {
        token = tokenOf(await this.options.getToken({ refresh }), this.env.now());
      } catch (error) {
        if (this.stopped) return;
        return this.failed(purpose, { kind: 'lost', error });
      }
    }
    if (this.stopped) return;
    const current = this.primary?.token?.expiresAt;
    if (purpose === 'rotate' && current !== undefined && (token?.expiresAt ?? 0) <= current) {
      // No fresher token to be had: the gateway ends the stream at expiry and it resumes.
      return;
    }
    const attempt: Attempt = { purpose, topics: this.topics, token, refreshed: refresh, opened: false };
    attempt.connection = new SseConnection(
      {
        url: streamUrl(this.options.url, this.topics),
        token: token?.value,
        lastEventId: this.lastId,
        credentials: this.options.credentials,
        livenessMs: 2 * this.options.heartbeatMs,
      },
      {
        opened: () => this.opened(attempt),
        block: (block) => this.received(attempt, block),
        retry: (ms) => this.backoff.setBase(ms),
      },
      this.env,
    );
    if (purpose === 'connect') this.primary = attempt;
    else this.next = attempt;
    const end = await attempt.connection.ended;
    this.ended(attempt, end);
  }

  private opened(attempt: Attempt): void {
    if (this.stopped) return;
    attempt.opened = true;
    if (attempt === this.next) {
      const previous = this.primary;
      this.primary = attempt;
      this.next = undefined;
      previous?.connection?.close();
    }
    if (attempt !== this.primary) return;
    this.backoff.reset();
    if (!this.live) {
      this.live = true;
      this.listener.state({ status: 'live' });
    }
    this.scheduleRotation(attempt.token);
    if (topicsKey(attempt.topics) !== topicsKey(this.topics)) this.switchTo('retopic');
  }

  private received(attempt: Attempt, block: SseBlock): void {
    if (attempt !== this.primary || this.stopped) return;
    if (block.id !== undefined) this.lastId = block.id;
    if (block.type === 'checkpoint') {
      if (block.id !== undefined) this.listener.position(block.id);
      return;
    }
    this.listener.block(block, this.lastId);
  }

  private ended(attempt: Attempt, end: ConnectionEnd): void {
    if (this.stopped || end.kind === 'closed') return;
    if (attempt === this.next) {
      this.next = undefined;
      if (this.primary) return this.failed(attempt.purpose, end, attempt.refreshed);
      // The stream it was to replace is gone meanwhile: this is now a reconnection.
      return this.failed('connect', end, attempt.refreshed);
    }
    if (attempt !== this.primary) return;
    this.primary = undefined;
    this.env.clearTimeout(this.rotationTimer);
    if (this.next) return; // The switch under way becomes the stream once it opens.
    this.failed('connect', end, attempt.refreshed);
  }

  /** A connection that did not open, or dropped: retry, refresh the token, or give up. */
  private failed(purpose: Purpose, end: ConnectionEnd, refreshed = false): void {
    if (end.kind === 'refused') {
      if (end.status === 401 && this.options.getToken && !refreshed) {
        void this.open(purpose, true);
        return;
      }
      const fatal = fatalRefusal(end.status, end.message);
      if (fatal) return this.close(fatal);
    }
    const inMs =
      end.kind === 'refused' && end.retryAfterMs !== undefined ? end.retryAfterMs : this.backoff.next();
    this.env.clearTimeout(this.retryTimer);
    if (purpose !== 'connect') {
      // The current stream still runs: try the switch again later.
      this.retryTimer = this.env.setTimeout(() => this.switchTo(purpose), inMs);
      return;
    }
    this.live = false;
    this.listener.state({ status: 'reconnecting', inMs, cause: causeOf(end) });
    this.retryTimer = this.env.setTimeout(() => void this.open('connect', false), inMs);
  }

  private close(error?: StreamError): void {
    if (this.stopped) return;
    this.stopped = true;
    this.env.clearTimeout(this.retryTimer);
    this.env.clearTimeout(this.rotationTimer);
    this.primary?.connection?.close();
    this.next?.connection?.close();
    this.primary = this.next = undefined;
    this.listener.state(error ? { status: 'closed', error } : { status: 'closed' });
  }

  private scheduleRotation(token: Token | undefined): void {
    this.env.clearTimeout(this.rotationTimer);
    const at = token && rotationAt(token);
    if (at === undefined) return;
    this.rotationTimer = this.env.setTimeout(
      () => {
        if (this.primary?.opened && !this.next) this.switchTo('rotate');
      },
      Math.max(0, at - this.env.now()),
    );
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

function causeOf(end: ConnectionEnd): string {
  switch (end.kind) {
    case 'refused':
      return `HTTP ${end.status}: ${end.message}`;
    case 'ended':
      return 'the gateway ended the stream';
    case 'lost':
      return end.error instanceof Error ? end.error.message : String(end.error);
    case 'silent':
      return 'no heartbeat';
    case 'closed':
      return 'closed';
  }
}
