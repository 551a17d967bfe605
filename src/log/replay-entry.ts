import type { Fifo } from './fifo.js';
import type { GatewayEvent } from './gateway-event.js';

/** An event in the store. `event` is dropped once no key holds it any more. */
export interface Entry {
  event: GatewayEvent | undefined;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Place in processing order. */
  readonly seq: number;
  /** The record's timestamp, or the time it arrived if the producer's clock is ahead. */
  readonly at: number;
  /** What the event takes on the heap, audience included, counted while a key holds it. */
  readonly bytes: number;
  /**
   * What each key holding it is charged against its cap: the event's type and data, not the
   * audience. An event for 5,000 users would otherwise cost each of them the whole list.
   */
  readonly charge: number;
  /** Key lists still holding it. */
  holders: number;
}

export interface KeyList {
  readonly entries: Fifo<Entry>;
  /** Bytes of the events it holds, against its own cap. */
  bytes: number;
  readonly cap: number;
}

/**
 * Memory model, in bytes, checked against real heap growth by replay-store.memory.spec.ts. V8
 * stores strings of Latin-1 text one byte a character, others two, behind a 16-byte header.
 */
export const ENTRY_BYTES = 88;
const EVENT_BYTES = 72;
const AUDIENCE_BYTES = 32;
/** A slot in a queue, with the slack of a growing array. */
export const SLOT_BYTES = 12;
export const KEY_LIST_BYTES = 425;
const TWO_BYTE = /[^\u0000-\u00ff]/;

export function stringBytes(text: string): number {
  return 16 + (TWO_BYTE.test(text) ? 2 * text.length : text.length);
}

/** The event object with its type and data, without its audience. */
export function contentBytes(event: GatewayEvent): number {
  return EVENT_BYTES + stringBytes(event.type) + stringBytes(event.data);
}

/** What an event takes beyond its entry: the event object, its audience and its strings. */
export function eventBytes(event: GatewayEvent): number {
  const { audience } = event;
  let bytes = contentBytes(event) + AUDIENCE_BYTES;
  if (audience.kind === 'user') bytes += stringBytes(audience.userId);
  if (audience.kind === 'users') {
    bytes += 16 + 8 * audience.userIds.length;
    for (const userId of audience.userIds) bytes += stringBytes(userId);
  }
  return bytes;
}
