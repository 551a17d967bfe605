import { DEFAULT_MAX_RETRY_MS, DEFAULT_RETRY_MS } from './backoff.js';
import { browserEnvironment, type Environment } from './environment.js';
import { positionOf, DeliveredPositions } from './event-id.js';
import { EventStream, type StreamOptions, type StreamState } from './event-stream.js';
import type { Feed } from './feed.js';
import type { SseBlock } from './sse-connection.js';
import type { StreamError } from './stream-error.js';
import { TabGroup, type Channel, type Locks } from './tab-group.js';
import type { GetToken } from './token.js';

/** The gateway's default heartbeat (`SSE_HEARTBEAT_MS`), assumed until a stream says its own. */
const DEFAULT_HEARTBEAT_MS = 15_000;

export interface ClientOptions {
  /** The stream's URL. Default: `/events` on the page's origin. */
  readonly url?: string;
  /** The topics this tab wants. Default: every topic the user may read. */
  readonly topics?: readonly string[];
  /**
   * Returns an access token, sent as `Authorization: Bearer`. Called before each connection;
   * with `refresh: true` after a 401 (once) and before the current token expires (the `exp` of a
   * JWT, or `expiresAt` when returned). Without it, the stream is authenticated by cookie.
   */
  readonly getToken?: GetToken;
  /** fetch's credentials mode. Default `same-origin`; `include` sends cookies cross-origin. */
  readonly credentials?: RequestCredentials;
  /** Resume after this id (one saved from `lastEventId`, e.g. across a page load). */
  readonly lastEventId?: string;
  /**
   * Share one stream among the tabs of this origin that use the same `shareKey` (default true).
   * Needs Web Locks and BroadcastChannel; without them each tab keeps its own stream.
   */
  readonly shareAcrossTabs?: boolean;
  /** Which tabs share: default the stream's URL. Give one per signed-in user if tabs can differ. */
  readonly shareKey?: string;
  /** First reconnection delay until the gateway sends `retry:`. Default 2000 ms. */
  readonly retryMs?: number;
  /** Longest reconnection delay. Default 30 s. */
  readonly maxRetryMs?: number;
  /** Heartbeat interval assumed until the gateway states its own. Default 15 s. */
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

export type Status = 'connecting' | 'live' | 'reconnecting' | 'reset' | 'closed';

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
  private readonly typed = new Map<string, Set<(data: never, event: GatewayEvent<never>) => void>>();
  private readonly any = new Set<(event: GatewayEvent) => void>();
  private readonly resets = new Set<(reset: ResetNotice) => void>();
  private readonly statuses = new Set<(status: StatusEvent) => void>();
  private readonly delivered = new DeliveredPositions();
  private readonly topics: ReadonlySet<string> | undefined;
  private readonly feed: Feed;
  private current: StatusEvent = { status: 'connecting', tabs: 1, leader: false };
  private closed = false;

  constructor(options: ClientOptions = {}) {
    const env = options.environment ?? browserEnvironment();
    const url = options.url ?? '/events';
    this.topics = options.topics ? new Set(options.topics) : undefined;
    const streamOptions: StreamOptions = {
      url,
      topics: options.topics ? [...new Set(options.topics)].sort() : undefined,
      getToken: options.getToken,
      credentials: options.credentials ?? 'same-origin',
      lastEventId: options.lastEventId,
      retryMs: options.retryMs ?? DEFAULT_RETRY_MS,
      maxRetryMs: options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    };
    const listener = {
      block: (block: SseBlock) => this.received(block),
      state: (state: StreamState, sharing: { tabs: number; leader: boolean }) => this.changed(state, sharing),
    };
    const locks = options.locks === undefined ? browserLocks() : options.locks;
    const channel = options.channel === undefined ? browserChannel() : options.channel;
    if (options.shareAcrossTabs !== false && locks && channel) {
      const name = `kafka-sse-gateway:${options.shareKey ?? absolute(url)}`;
      this.feed = new TabGroup(
        { name, tabId: randomId(env), stream: streamOptions, locks, channel: channel(name), env },
        listener,
      );
      this.watchPageLifecycle(this.feed as TabGroup);
    } else {
      this.feed = new EventStream(
        streamOptions,
        {
          block: listener.block,
          position: () => undefined,
          state: (state) => listener.state(state, { tabs: 1, leader: true }),
        },
        env,
      );
    }
    // Handlers are registered right after construction: start once they are.
    queueMicrotask(() => {
      if (!this.closed) this.feed.start();
    });
  }

  /** The latest status. */
  get status(): StatusEvent {
    return this.current;
  }

  /** The id to resume after, e.g. saved for the next page load and passed as `lastEventId`. */
  get lastEventId(): string | undefined {
    return this.feed.lastEventId;
  }

  /** Handles one event type; `data` is the event's JSON data. */
  on<K extends keyof Events & string>(
    type: K,
    handler: (data: Events[K], event: GatewayEvent<Events[K]>) => void,
  ): Unsubscribe {
    let handlers = this.typed.get(type);
    if (!handlers) this.typed.set(type, (handlers = new Set()));
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /** Handles every event, whatever its type (checkpoints and resets excepted). */
  onAny(handler: (event: GatewayEvent) => void): Unsubscribe {
    return addTo(this.any, handler);
  }

  /** The gateway cannot resume exactly (`event: reset`): refetch your state. */
  onReset(handler: (reset: ResetNotice) => void): Unsubscribe {
    return addTo(this.resets, handler);
  }

  onStatus(handler: (status: StatusEvent) => void): Unsubscribe {
    return addTo(this.statuses, handler);
  }

  /** Stops the stream for this tab; another tab that shares it takes it over. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.feed.stop();
  }

  private received(block: SseBlock): void {
    if (block.type === 'reset') return this.reset(block);
    const position = block.id === undefined ? undefined : positionOf(block.id);
    if (!position || (this.topics && !this.topics.has(position.topic))) return;
    if (!this.delivered.admit(position)) return;
    const event: GatewayEvent = { type: block.type, data: parse(block.data), id: block.id!, ...position };
    this.typed
      .get(block.type)
      ?.forEach((handler) => safely(() => handler(event.data as never, event as never)));
    this.any.forEach((handler) => safely(() => handler(event)));
  }

  private reset(block: SseBlock): void {
    this.delivered.clear();
    const data = parse(block.data) as Partial<ResetNotice> | undefined;
    const reset: ResetNotice = {
      reason: String(data?.reason ?? 'unknown'),
      message: String(data?.message ?? ''),
    };
    this.resets.forEach((handler) => safely(() => handler(reset)));
    const previous = this.current;
    this.emit({ status: 'reset', tabs: previous.tabs, leader: previous.leader, reset });
    this.emit(previous);
  }

  private changed(state: StreamState, sharing: { tabs: number; leader: boolean }): void {
    const status: StatusEvent = { ...state, ...sharing };
    this.emit(status);
    if (state.status === 'closed' && !this.closed) {
      this.closed = true;
      this.feed.stop();
    }
  }

  private emit(status: StatusEvent): void {
    this.current = status;
    this.statuses.forEach((handler) => safely(() => handler(status)));
  }

  private watchPageLifecycle(group: TabGroup): void {
    if (typeof document === 'undefined') return;
    // A frozen tab cannot run the stream: another one takes it over. Hidden tabs keep theirs.
    document.addEventListener('freeze', () => group.suspend());
    document.addEventListener('resume', () => group.resume());
    addEventListener('pagehide', (event) => (event.persisted ? group.suspend() : this.close()));
    addEventListener('pageshow', (event) => event.persisted && group.resume());
  }
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
