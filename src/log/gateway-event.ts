import type { RecordPosition } from './log-position.js';

/** Who an event is for. There is no default: a record must say. */
export type Audience =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'users'; /** Without duplicates. */ readonly userIds: readonly string[] }
  | { readonly kind: 'broadcast' };

/** What a valid record says, before it is placed in the log. */
export interface EventContent {
  readonly type: string;
  /** The record's `data`, serialised once as JSON text for every recipient. */
  readonly data: string;
  readonly audience: Audience;
}

export interface GatewayEvent extends EventContent, RecordPosition {
  /** The record's timestamp, in epoch milliseconds. */
  readonly timestamp: number;
}
