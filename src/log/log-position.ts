import { base64url, readVarint, writeVarint } from './varint.js';

/**
 * The largest offset the gateway handles. Offsets are JavaScript numbers inside (a BigInt per
 * record was a measurable share of the CPU); 2^52 keeps every encoded value below 2^53, and lasts
 * a partition 140 years at a million records a second.
 */
export const MAX_OFFSET = 2 ** 52 - 1;

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** The part of an event id before `;`: `topic/partition/offset`. */
const EVENT_POSITION = /^([a-zA-Z0-9._-]{1,249})\/(\d{1,6})\/(\d{1,16})$/;
const MAX_CURSOR_LENGTH = 16 * 1024;
const MAX_PARTITIONS = 100_000;
const UNKNOWN = -1;

/** A Kafka position: one record of one partition. */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * For each topic-partition, an offset: the next record not yet processed (the instance) or not yet
 * given (a stream). Partitions it does not know have no offset. The same value means the same
 * place in the log on every instance, which is what makes a resume point portable.
 */
export class LogPosition {
  private constructor(private readonly byTopic: Map<string, number[]>) {}

  static empty(): LogPosition {
    return new LogPosition(new Map());
  }

  /**
   * Reads a cursor (see `format`), or an event id: the cursor after its `;`, with the event's own
   * partition just past the event (see formatEventId); undefined if malformed.
   */
  static parse(text: string): LogPosition | undefined {
    const byTopic = parseCursor(text);
    if (!byTopic) return undefined;
    const position = new LogPosition(byTopic);
    const separator = text.indexOf(';');
    if (separator === -1) return position;
    const event = eventPositionOf(text.slice(0, separator));
    if (!event || !byTopic.has(event.topic)) return undefined;
    position.set(event.topic, event.partition, event.offset + 1);
    return position;
  }

  get(topic: string, partition: number): number | undefined {
    const offset = this.byTopic.get(topic)?.[partition];
    return offset === undefined || offset === UNKNOWN ? undefined : offset;
  }

  /** Whether the topic is named, even with no partition known. */
  hasTopic(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  topics(): IterableIterator<string> {
    return this.byTopic.keys();
  }

  /** Number of partition slots of a topic (the highest known partition + 1). */
  partitionCount(topic: string): number {
    return this.byTopic.get(topic)?.length ?? 0;
  }

  set(topic: string, partition: number, offset: number): void {
    let offsets = this.byTopic.get(topic);
    if (!offsets) this.byTopic.set(topic, (offsets = []));
    while (offsets.length <= partition) offsets.push(UNKNOWN);
    offsets[partition] = offset;
  }

  /** Names a topic without any partition, as a stream on a topic nobody produced to yet. */
  addTopic(topic: string): void {
    if (!this.byTopic.has(topic)) this.byTopic.set(topic, []);
  }

  delete(topic: string, partition: number): void {
    const offsets = this.byTopic.get(topic);
    if (offsets && partition < offsets.length) offsets[partition] = UNKNOWN;
  }

  *entries(): IterableIterator<[topic: string, partition: number, offset: number]> {
    for (const [topic, offsets] of this.byTopic) {
      for (let partition = 0; partition < offsets.length; partition++) {
        const offset = offsets[partition]!;
        if (offset !== UNKNOWN) yield [topic, partition, offset];
      }
    }
  }

  /** A copy, restricted to `topics` when given (each of them named, known or not). */
  snapshot(topics?: Iterable<string>): LogPosition {
    const copy = new Map<string, number[]>();
    if (topics === undefined) {
      for (const [topic, offsets] of this.byTopic) copy.set(topic, [...offsets]);
    } else {
      for (const topic of topics) copy.set(topic, [...(this.byTopic.get(topic) ?? [])]);
    }
    return new LogPosition(copy);
  }

  /** Takes the offsets `other` has, for the topics this one names. */
  overlay(other: LogPosition): this {
    for (const [topic, partition, offset] of other.entries()) {
      if (this.byTopic.has(topic)) this.set(topic, partition, offset);
    }
    return this;
  }

  /** Takes, per partition, the greater of the two offsets, for the topics this one names. */
  mergeMax(other: LogPosition): this {
    for (const [topic, partition, offset] of other.entries()) {
      if (!this.byTopic.has(topic)) continue;
      const mine = this.get(topic, partition);
      if (mine === undefined || offset > mine) this.set(topic, partition, offset);
    }
    return this;
  }

  /** The partitions where this position is past `other` (or `other` has none); undefined if none. */
  aheadOf(other: LogPosition): LogPosition | undefined {
    let ahead: LogPosition | undefined;
    for (const [topic, partition, offset] of this.entries()) {
      const theirs = other.get(topic, partition);
      if (theirs !== undefined && offset <= theirs) continue;
      ahead ??= LogPosition.empty();
      ahead.set(topic, partition, offset);
    }
    return ahead;
  }

  /** The cursor text of `topics`: each topic's offsets, compactly (see encodeTopic). */
  format(topics: readonly string[]): string {
    return topics.map((topic) => this.formatTopic(topic)).join(CURSOR_TOPIC_SEPARATOR);
  }

  /** The cursor text of one topic; texts of several topics join with CURSOR_TOPIC_SEPARATOR. */
  formatTopic(topic: string): string {
    return encodeTopic(topic, this.byTopic.get(topic) ?? []);
  }
}

/**
 * Cursor text: `topic=<base64url>` per topic, joined by `~`. The base64url holds varints: the
 * number of partition slots, then one value per slot: 0 for a partition not known, otherwise the
 * zigzag-encoded difference to the previous known offset, plus one. Partitions of a topic grow at
 * similar rates, so the differences are small: 64 partitions at offsets of 10^7 take about 180
 * characters, against 512 as decimals. Neither `~` nor `=` occurs in topic names or base64url.
 */
export const CURSOR_TOPIC_SEPARATOR = '~';
const NAME_SEPARATOR = '=';

function encodeTopic(topic: string, offsets: readonly number[]): string {
  const bytes: number[] = [];
  writeVarint(bytes, offsets.length);
  let previous = 0;
  for (const offset of offsets) {
    if (offset === UNKNOWN) {
      writeVarint(bytes, 0);
      continue;
    }
    const delta = offset - previous;
    writeVarint(bytes, (delta >= 0 ? delta * 2 : -delta * 2 - 1) + 1);
    previous = offset;
  }
  return `${topic}${NAME_SEPARATOR}${base64url(bytes)}`;
}

function parseCursor(text: string): Map<string, number[]> | undefined {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH) return undefined;
  const separator = text.indexOf(';');
  const cursor = separator === -1 ? text : text.slice(separator + 1);
  if (cursor.includes(NAME_SEPARATOR)) return parseCompact(cursor);
  return parseDecimal(cursor);
}

function parseCompact(text: string): Map<string, number[]> | undefined {
  const byTopic = new Map<string, number[]>();
  for (const part of text.split(CURSOR_TOPIC_SEPARATOR)) {
    const at = part.indexOf(NAME_SEPARATOR);
    const topic = part.slice(0, at);
    if (at === -1 || !TOPIC_NAME.test(topic) || byTopic.has(topic)) return undefined;
    const payload = part.slice(at + 1);
    if (!/^[A-Za-z0-9_-]*$/.test(payload)) return undefined;
    const offsets = decodeOffsets(Buffer.from(payload, 'base64url'));
    if (!offsets) return undefined;
    byTopic.set(topic, offsets);
  }
  return byTopic;
}

function decodeOffsets(bytes: Buffer): number[] | undefined {
  const reader = { at: 0 };
  const count = readVarint(bytes, reader);
  if (count === undefined || count > MAX_PARTITIONS) return undefined;
  const offsets: number[] = [];
  let previous = 0;
  for (let slot = 0; slot < count; slot++) {
    const value = readVarint(bytes, reader);
    if (value === undefined) return undefined;
    if (value === 0) {
      offsets.push(UNKNOWN);
      continue;
    }
    const zigzag = value - 1;
    const offset = previous + (zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_OFFSET) return undefined;
    offsets.push(offset);
    previous = offset;
  }
  return reader.at === bytes.length ? offsets : undefined;
}

/** The first cursor format (`orders:1234.99.87,chat:5`), still read so old ids resume after an upgrade. */
function parseDecimal(text: string): Map<string, number[]> | undefined {
  const byTopic = new Map<string, number[]>();
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    const topic = part.slice(0, colon);
    if (colon === -1 || !TOPIC_NAME.test(topic) || byTopic.has(topic)) return undefined;
    const slots = part.slice(colon + 1);
    const offsets: number[] = [];
    if (slots !== '') {
      for (const slot of slots.split('.')) {
        if (slot === '') {
          offsets.push(UNKNOWN);
          continue;
        }
        if (!/^\d{1,16}$/.test(slot)) return undefined;
        const offset = Number(slot);
        if (offset > MAX_OFFSET) return undefined;
        offsets.push(offset);
      }
    }
    if (offsets.length > MAX_PARTITIONS) return undefined;
    byTopic.set(topic, offsets);
  }
  return byTopic;
}

/** The position an event id names before its `;` (`topic/partition/offset`); undefined if malformed. */
export function eventPositionOf(text: string): RecordPosition | undefined {
  const event = EVENT_POSITION.exec(text);
  const offset = Number(event?.[3]);
  if (!event || offset > MAX_OFFSET) return undefined;
  return { topic: event[1]!, partition: Number(event[2]), offset };
}

/**
 * The SSE id of an event: its own position, then the stream's cursor, e.g.
 * `orders/1/98;chat=AQI~orders=A6gnAQM`. The part before `;` identifies the event, and says
 * where the stream stands on the event's own partition: just past it, whatever the cursor says
 * there (the cursor is the one of the batch the event came in, built once for all its events).
 */
export function formatEventId(position: RecordPosition, cursorText: string): string {
  return `${position.topic}/${position.partition}/${position.offset};${cursorText}`;
}
