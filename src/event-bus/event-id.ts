import type { RecordPosition } from './gateway-event.js';

/**
 * Where a stream stands in the log: for each topic-partition, the first offset it has not been
 * given. The same text means the same place on every instance.
 */
export type StreamCursor = ReadonlyMap<string, ReadonlyMap<number, bigint>>;
export type MutableCursor = Map<string, Map<number, bigint>>;

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const OFFSET = /^\d{1,19}$/;
const MAX_ID_LENGTH = 16 * 1024;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The SSE id of an event: its own position, then the stream's cursor just after it.
 * `orders/1/98;orders:1234.99,chat:5` is offset 98 of orders' partition 1, in a stream that has
 * had everything before orders 0:1234, 1:99 and chat 0:5.
 */
export function formatEventId(position: RecordPosition, cursorText: string): string {
  return `${position.topic}/${position.partition}/${position.offset};${cursorText}`;
}

/**
 * A cursor as text for `topics`: `topic:offset.offset…` per topic, partitions by index, an empty
 * slot for a partition not known, topics joined by commas. The inverse of parseCursor.
 */
export function formatCursor(cursor: StreamCursor, topics: readonly string[]): string {
  return topics
    .map((topic) => {
      const offsets = cursor.get(topic);
      if (!offsets || offsets.size === 0) return `${topic}:`;
      const slots = Array.from(
        { length: Math.max(...offsets.keys()) + 1 },
        (_, partition) => offsets.get(partition)?.toString() ?? '',
      );
      return `${topic}:${slots.join('.')}`;
    })
    .join(',');
}

/**
 * Reads the cursor out of an event id or a bare cursor (heartbeats and the stream's first message
 * carry one). Returns undefined for anything malformed.
 */
export function parseCursor(id: string): MutableCursor | undefined {
  if (id.length === 0 || id.length > MAX_ID_LENGTH) return undefined;
  const separator = id.indexOf(';');
  const text = separator === -1 ? id : id.slice(separator + 1);
  const cursor = new Map<string, Map<number, bigint>>();
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    const topic = part.slice(0, colon);
    if (colon === -1 || !TOPIC_NAME.test(topic) || cursor.has(topic)) return undefined;
    const offsets = readOffsets(part.slice(colon + 1));
    if (!offsets) return undefined;
    cursor.set(topic, offsets);
  }
  return cursor;
}

function readOffsets(text: string): Map<number, bigint> | undefined {
  const offsets = new Map<number, bigint>();
  if (text === '') return offsets;
  const slots = text.split('.');
  for (const [partition, slot] of slots.entries()) {
    if (slot === '') continue;
    if (!OFFSET.test(slot)) return undefined;
    const offset = BigInt(slot);
    if (offset > INT64_MAX) return undefined;
    offsets.set(partition, offset);
  }
  return offsets;
}
