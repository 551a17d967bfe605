import { DEFAULT_MAX_RETRY_MS, DEFAULT_RETRY_MS } from './backoff.js';
import { browserEnvironment, type Environment } from './environment.js';
import { positionOf, DeliveredPositions } from './event-id.js';
import { EventStream, type StreamOptions, type StreamState } from './event-stream.js';
import type { Feed, FeedListener } from './feed.js';
import type { SseBlock } from './sse-connection.js';
import type { StreamError } from './stream-error.js';
import { TabGroup, type Channel, type Locks } from './tab-group.js';
import { PROTOCOL } from './tab-message.js';
import { tokenOf, type GetToken, type TokenResult } from './token.js';

/** The gateway's default heartbeat (`SSE_HEARTBEAT_MS`), assumed until a stream says its own. */
const DEFAULT_HEARTBEAT_MS = 15_000;
/** How long the token that told the user is good for the first connection. */
const FIRST_TOKEN_REUSE_MS = 10_000;

export interface ClientOptions {
  /** The stream's URL. Default: `/events` on the page's origin. */
  readonly url?: string;
  /** The topics this tab wants. Default: every topic the user may read. */
  readonly topics?: readonly string[];
  /**
   * Returns an access token, sent as `Authorization: Bearer`, or `null` when the user is signed
   * out (the client then stops with status `signed-out`). Called before each connection; with
   * `refresh: true` after a 401 (once) and before the current token expires (the `exp` of a JWT,
   * or `expiresAt` when returned). Without it, the stream is authenticated by cookie.
   */
  readonly getToken?: GetToken;
  /** fetch's credentials mode. Default `same-origin`; `include` sends cookies cross-origin. */
  readonly credentials?: RequestCredentials;
  /** Resume after this id (one saved from `lastEventId`, e.g. across a page load). */
  readonly lastEventId?: string;
  /**
   * Share one stream among the tabs of this origin that stream the same URL for the same user
   * (default true). Needs Web Locks and BroadcastChannel; without them each tab keeps its own.
   */
  readonly shareAcrossTabs?: boolean;
  /**
   * Which tabs share: default the user the token names (its `iss` and `sub`). Tabs share only
   * when one of the two is known: give a key that is unique per user when the stream goes by
   * cookie or the token is not a JWT.
   */
  readonly shareKey?: string;
  /** First reconnection delay until the gateway sends `retry:`. Default 2000 ms. */
  readonly retryMs?: number;
  /** Longest reconnection delay, `Retry-After` included. Default 30 s. */
  readonly maxRetryMs?: number;
  /** Heartbeat interval assumed until the gateway states its own; tabs check their leader at it. Default 15 s. */
  readonly heartbeatMs?: number;
  /** For tests: the clock, timers and fetch; the Web Locks and channel a group uses. */
  readonly environment?: Environment;
  readonly locks?: Locks | null;
  readonly channel?: ((name: string) => Channel) | null;
}

/** An application event, with its data parsed from JSON. */
export interface GatewayEvent<T = unknown> {
  readonly type: string;
  readonly data: T;
  readonly id: string;
  /** Its Kafka position (the part of the id before `;`). */
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** `event: reset`: what the app holds may miss events; refetch your state. */
export interface ResetNotice {
  readonly reason: string;
  readonly message: string;
}

export type Status = 'connecting' | 'live' | 'reconnecting' | 'reset' | 'closed' | 'signed-out';

export interface StatusEvent {
  readonly status: Status;
  /** How many tabs share the stream (1 without sharing). */
  readonly tabs: number;
  /** Whether this tab holds the stream. */
  readonly leader: boolean;
  /** For `reconnecting`: when the next attempt starts, and why the last one ended. */
  readonly inMs?: number;
  readonly cause?: string;
  /** For `closed`: why it gave up (a 401 after a token refresh, a 403, a 400). */
  readonly error?: StreamError;
  /** For `reset`. */
  readonly reset?: ResetNotice;
}

type EventMap = Record<string, unknown>;
type Unsubscribe = () => void;

/**
 * The gateway's event stream for one tab. Handlers receive every event once, in the stream's
 * order, whatever happens underneath: reconnections, token rotations, another tab taking over.
 */
export class EventClient<Events extends EventMap = EventMap> {
  readonly #typed = new Map<string, Set<(data: never, event: GatewayEvent<never>) => void>>();
  readonly #any = new Set<(event: GatewayEvent) => void>();
  readonly #resets = new Set<(reset: ResetNotice) => void>();
  readonly #statuses = new Set<(status: StatusEvent) => void>();
  readonly #errors = new Set<(error: StreamError) => void>();
  readonly #delivered = new DeliveredPositions();
  readonly #topics: ReadonlySet<string> | undefined;
  readonly #env: Environment;
  readonly #listener: FeedListener;
  /** TypeScript-private rather than #private: the tab tests drive the group through it. */
  private feed: Feed | undefined;
  #current: StatusEvent = { status: 'connecting', tabs: 1, leader: false };
  #closed = false;
  #unwatch: (() => void) | undefined;

  constructor(private readonly options: ClientOptions = {}) {
    this.#env = options.environment ?? browserEnvironment();
    this.#topics = options.topics ? new Set(options.topics) : undefined;
    this.#listener = {
      block: (block) => this.#received(block),
      state: (state, sharing) => this.#changed(state, sharing),
      error: (error) => this.#errors.forEach((handler) => safely(() => handler(error))),
      alone: (lastEventId) => this.#begin(this.#lone(this.#streamOptions(lastEventId))),
    };
    // Handlers are registered right after construction: start once they are.
    queueMicrotask(() => void this.#start());
  }

  /** The latest status. */
  get status(): StatusEvent {
    return this.#current;
  }

  /** The id to resume after, e.g. saved for the next page load and passed as `lastEventId`. */
  get lastEventId(): string | undefined {
    return this.feed ? this.feed.lastEventId : this.options.lastEventId;
  }

  /** Handles one event type; `data` is the event's JSON data. */
  on<K extends keyof Events & string>(
    type: K,
    handler: (data: Events[K], event: GatewayEvent<Events[K]>) => void,
  ): Unsubscribe {
    let handlers = this.#typed.get(type);
    if (!handlers) this.#typed.set(type, (handlers = new Set()));
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /** Handles every event, whatever its type (checkpoints and resets excepted). */
  onAny(handler: (event: GatewayEvent) => void): Unsubscribe {
    return addTo(this.#any, handler);
  }

  /** The gateway cannot resume exactly (`event: reset`): refetch your state. */
  onReset(handler: (reset: ResetNotice) => void): Unsubscribe {
    return addTo(this.#resets, handler);
  }

  onStatus(handler: (status: StatusEvent) => void): Unsubscribe {
    return addTo(this.#statuses, handler);
  }

  /**
   * What went wrong while the stream went on: a refused token rotation, a token `getToken` could
   * not give (the client retries). What ends the client comes with the `closed` status instead.
   */
  onError(handler: (error: StreamError) => void): Unsubscribe {
    return addTo(this.#errors, handler);
  }

  /** Stops the stream for this tab; another tab that shares it takes it over. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch?.();
    if (this.feed) this.feed.stop();
    else this.#emit({ status: 'closed', tabs: 1, leader: false });
  }

  /**
   * Learns the user from the first token (kept for the first connection), then streams: in the
   * group of this URL and user when tabs can share, or alone.
   */
  async #start(): Promise<void> {
    if (this.#closed) return;
    const { getToken, shareKey, url = '/events' } = this.options;
    let user: string | undefined;
    let stream = this.#streamOptions(this.options.lastEventId);
    if (getToken) {
      try {
        const first = await getToken({ refresh: false });
        if (this.#closed) return;
        if (first === null) return this.#changed({ status: 'signed-out' }, { tabs: 1, leader: false });
        user = tokenOf(first).user;
        stream = { ...stream, user, getToken: reuseFirst(first, getToken, this.#env) };
      } catch {
        // No user to share with: this tab streams alone, and its stream asks again.
      }
    }
    const locks = this.options.locks === undefined ? browserLocks() : this.options.locks;
    const channel = this.options.channel === undefined ? browserChannel() : this.options.channel;
    const key = shareKey ?? user;
    if (this.options.shareAcrossTabs === false || !locks || !channel || key === undefined) {
      return this.#begin(this.#lone(stream));
    }
    // Tabs of another client version speak another protocol: they never share.
    const name = `kafka-sse-gateway/${PROTOCOL}:${absolute(url)}:${key}`;
    this.#begin(
      new TabGroup(
        { name, tabId: randomId(this.#env), stream, locks, channel, env: this.#env },
        this.#listener,
      ),
    );
  }

  #begin(feed: Feed): void {
    if (this.#closed) return;
    this.feed = feed;
    this.#unwatch ??= watchPage(this, () => this.feed);
    feed.start();
  }

  #lone(stream: StreamOptions): EventStream {
    return new EventStream(
      stream,
      {
        block: (block) => this.#listener.block(block),
        position: () => undefined,
        state: (state) => this.#listener.state(state, { tabs: 1, leader: true }),
        error: (error) => this.#listener.error(error),
      },
      this.#env,
    );
  }

  #streamOptions(lastEventId: string | undefined): StreamOptions {
    const { options } = this;
    return {
      url: options.url ?? '/events',
      topics: options.topics ? [...new Set(options.topics)].sort() : undefined,
      getToken: options.getToken,
      user: undefined,
      credentials: options.credentials ?? 'same-origin',
      lastEventId,
      retryMs: options.retryMs ?? DEFAULT_RETRY_MS,
      maxRetryMs: options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    };
  }

  #received(block: SseBlock): void {
    if (block.type === 'reset') return this.#reset(block);
    const position = block.id === undefined ? undefined : positionOf(block.id);
    if (!position || (this.#topics && !this.#topics.has(position.topic))) return;
    if (!this.#delivered.admit(position)) return;
    const event: GatewayEvent = { type: block.type, data: parse(block.data), id: block.id!, ...position };
    this.#typed
      .get(block.type)
      ?.forEach((handler) => safely(() => handler(event.data as never, event as never)));
    this.#any.forEach((handler) => safely(() => handler(event)));
  }

  #reset(block: SseBlock): void {
    this.#delivered.clear();
    const data = parse(block.data) as Partial<ResetNotice> | undefined;
    const reset: ResetNotice = {
      reason: String(data?.reason ?? 'unknown'),
      message: String(data?.message ?? ''),
    };
    this.#resets.forEach((handler) => safely(() => handler(reset)));
    const previous = this.#current;
    this.#emit({ status: 'reset', tabs: previous.tabs, leader: previous.leader, reset });
    this.#emit(previous);
  }

  #changed(state: StreamState, sharing: { tabs: number; leader: boolean }): void {
    this.#emit({ ...state, ...sharing });
    if ((state.status === 'closed' || state.status === 'signed-out') && !this.#closed) {
      this.#closed = true;
      this.#unwatch?.();
      this.feed?.stop();
    }
  }

  #emit(status: StatusEvent): void {
    this.#current = status;
    this.#statuses.forEach((handler) => safely(() => handler(status)));
  }
}

/**
 * Follows the page's lifecycle: a frozen tab hands its stream over, a page going into the
 * back-forward cache lets go of everything (a lock or an open fetch would keep it out) and comes
 * back from its last id, a page that unloads closes, and the network coming back or the tab being
 * shown starts a waiting reconnection at once.
 */
function watchPage(client: EventClient, feed: () => Feed | undefined): () => void {
  if (typeof addEventListener !== 'function' || typeof document === 'undefined') return () => undefined;
  const group = () => {
    const current = feed();
    return current instanceof TabGroup ? current : undefined;
  };
  const handlers: Array<[EventTarget, string, (event: Event) => void]> = [
    [document, 'freeze', () => group()?.freeze()],
    [document, 'resume', () => group()?.thaw()],
    [document, 'visibilitychange', () => document.visibilityState === 'visible' && feed()?.wake()],
    [globalThis, 'online', () => feed()?.wake()],
    [
      globalThis,
      'pagehide',
      (event) => ((event as PageTransitionEvent).persisted ? feed()?.pause() : client.close()),
    ],
    [globalThis, 'pageshow', (event) => (event as PageTransitionEvent).persisted && feed()?.resume()],
  ];
  for (const [target, type, handler] of handlers) target.addEventListener(type, handler);
  return () => handlers.forEach(([target, type, handler]) => target.removeEventListener(type, handler));
}

/** A first token is used for the first connection if that comes soon; later ones are asked for. */
function reuseFirst(first: TokenResult, getToken: GetToken, env: Environment): GetToken {
  let kept: TokenResult | undefined = first;
  const until = env.now() + FIRST_TOKEN_REUSE_MS;
  return (request) => {
    const token = kept;
    kept = undefined;
    return token !== undefined && !request.refresh && env.now() < until ? token : getToken(request);
  };
}

/** Opens the stream: `connect({ topics: ['orders'], getToken })`. */
export function connect<Events extends EventMap = EventMap>(
  options: ClientOptions = {},
): EventClient<Events> {
  return new EventClient<Events>(options);
}

function addTo<T>(set: Set<T>, item: T): Unsubscribe {
  set.add(item);
  return () => set.delete(item);
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

/** An application handler that throws must not stop the stream; the error still surfaces. */
function safely(run: () => void): void {
  try {
    run();
  } catch (error) {
    if (typeof reportError === 'function') reportError(error);
    else
      setTimeout(() => {
        throw error;
      });
  }
}

function browserLocks(): Locks | null {
  return typeof navigator !== 'undefined' && navigator.locks ? navigator.locks : null;
}

function browserChannel(): ((name: string) => Channel) | null {
  return typeof BroadcastChannel === 'function'
    ? (name) => new BroadcastChannel(name) as unknown as Channel
    : null;
}

function absolute(url: string): string {
  return typeof location === 'undefined' ? url : new URL(url, location.href).href;
}

function randomId(env: Environment): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${env.now().toString(36)}-${env.random().toString(36).slice(2)}`;
}
