import type { LogPosition } from './log-position.js';
import { base64url, readVarint, writeVarint } from './varint.js';

/**
 * The cursor part of a compact event id: `@<checkpoint>` or `@<checkpoint>.<given>`.
 *
 * A checkpoint is a position an instance wrote to the gateway's positions topic; its offset
 * there, in base 36, names it on every instance. The stream was given everything of its before
 * that position; `given` lists, for the partitions where the stream was given events since, where
 * it stands past the checkpoint (varints: topic index in the checkpoint, partition, distance).
 * An id is a few dozen characters whatever the partition count, where a full cursor grows with it.
 */
export interface JournalCursor {
  readonly checkpoint: number;
  readonly given: ReadonlyArray<readonly [topicIndex: number, partition: number, distance: number]>;
}

export const JOURNAL_MARK = '@';
const MAX_CHECKPOINT = 2 ** 52;

export function formatJournalCursor(checkpoint: string, given: readonly number[]): string {
  return given.length === 0
    ? `${JOURNAL_MARK}${checkpoint}`
    : `${JOURNAL_MARK}${checkpoint}.${base64url(given)}`;
}

/** Appends one partition to the `given` varints of a journal cursor. */
export function addGiven(into: number[], topicIndex: number, partition: number, distance: number): void {
  writeVarint(into, topicIndex);
  writeVarint(into, partition);
  writeVarint(into, distance);
}

/** Reads the cursor part of a compact id; undefined when it is not one, or malformed. */
export function parseJournalCursor(text: string): JournalCursor | undefined {
  if (!text.startsWith(JOURNAL_MARK)) return undefined;
  const dot = text.indexOf('.');
  const name = text.slice(1, dot === -1 ? undefined : dot);
  if (!/^[0-9a-z]{1,11}$/.test(name)) return undefined;
  const checkpoint = parseInt(name, 36);
  if (checkpoint > MAX_CHECKPOINT) return undefined;
  if (dot === -1) return { checkpoint, given: [] };
  const payload = text.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) return undefined;
  const bytes = Buffer.from(payload, 'base64url');
  const given: Array<[number, number, number]> = [];
  for (const reader = { at: 0 }; reader.at < bytes.length;) {
    const topicIndex = readVarint(bytes, reader);
    const partition = readVarint(bytes, reader);
    const distance = readVarint(bytes, reader);
    if (topicIndex === undefined || partition === undefined || distance === undefined) return undefined;
    given.push([topicIndex, partition, distance]);
  }
  return { checkpoint, given };
}

/** Where a stream stands, from a journal cursor and the checkpoint it names. */
export function positionOf(cursor: JournalCursor, checkpoint: LogPosition): LogPosition | undefined {
  const position = checkpoint.snapshot();
  const topics = [...checkpoint.topics()];
  for (const [topicIndex, partition, distance] of cursor.given) {
    const topic = topics[topicIndex];
    if (topic === undefined) return undefined;
    position.set(topic, partition, (checkpoint.get(topic, partition) ?? 0) + distance);
  }
  return position;
}
