import type { SseBlock } from './sse-parser.js';
import type { StreamError } from './stream-error.js';

/** The state of the stream, as the application sees it. */
export type StreamState =
  | { readonly status: 'connecting' }
  | { readonly status: 'live' }
  /** The stream dropped; the next attempt starts in `inMs`. */
  | { readonly status: 'reconnecting'; readonly inMs: number; readonly cause: string }
  /** Closed by `close()`, or given up with `error`. */
  | { readonly status: 'closed'; readonly error?: StreamError }
  /** `getToken` returned null, or a token for another user than the one the client serves. */
  | { readonly status: 'signed-out' };

/** Where a tab's events come from: its own stream, or the leader tab's. */
export interface Feed {
  readonly lastEventId: string | undefined;
  start(): void;
  stop(): void;
  /** The page enters the back-forward cache: hold nothing that keeps it out. */
  pause(): void;
  /** The page is back from the back-forward cache. */
  resume(): void;
  /** The network is back, or the page is shown: a reconnection that waits starts now. */
  wake(): void;
}

export interface FeedListener {
  /** An event or a reset for this tab (or for other tabs: the client filters by topic). */
  block(block: SseBlock): void;
  /** The stream's state, how many tabs share it, and whether this tab holds it. */
  state(state: StreamState, sharing: { readonly tabs: number; readonly leader: boolean }): void;
  /** Something went wrong that did not stop the stream. */
  error(error: StreamError): void;
  /** The group is another user's: this tab streams on its own from `lastEventId`. */
  alone?(lastEventId: string | undefined): void;
}
