import type { StreamState } from './event-stream.js';
import type { SseBlock } from './sse-connection.js';

/** Where a tab's events come from: its own stream, or the leader tab's. */
export interface Feed {
  readonly lastEventId: string | undefined;
  start(): void;
  stop(): void;
}

export interface FeedListener {
  /** An event or a reset for this tab (or for other tabs: the client filters by topic). */
  block(block: SseBlock): void;
  /** The stream's state, how many tabs share it, and whether this tab holds it. */
  state(state: StreamState, sharing: { readonly tabs: number; readonly leader: boolean }): void;
}
