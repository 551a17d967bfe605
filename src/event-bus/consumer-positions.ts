import { formatCursor, type MutableCursor } from './event-id.js';
import type { RecordPosition } from './gateway-event.js';

/**
 * For each topic-partition, the next offset this instance has not processed yet. Events reach
 * subscribers in processing order, so these positions are also a resume point for every stream
 * on this instance: everything before them that was addressed to a stream has been given to it.
 */
export class ConsumerPositions {
  private readonly next = new Map<string, bigint[]>();
  private readonly textByTopic = new Map<string, string>();

  nextOffset(topic: string, partition: number): bigint | undefined {
    return this.next.get(topic)?.[partition];
  }

  /** Sets where consumption of a partition starts, unless records of it were processed already. */
  startAt(topic: string, partition: number, offset: bigint): void {
    if (this.nextOffset(topic, partition) === undefined) this.set(topic, partition, offset);
  }

  /** Marks a record processed. Returns false for a record processed before (a redelivery). */
  advance({ topic, partition, offset }: RecordPosition): boolean {
    const next = this.nextOffset(topic, partition);
    if (next !== undefined && offset < next) return false;
    this.set(topic, partition, offset + 1n);
    return true;
  }

  /** A copy of the positions of `topics`. */
  snapshot(topics: readonly string[]): MutableCursor {
    const cursor: MutableCursor = new Map();
    for (const topic of topics) {
      const offsets = new Map<number, bigint>();
      this.next.get(topic)?.forEach((offset, partition) => offsets.set(partition, offset));
      cursor.set(topic, offsets);
    }
    return cursor;
  }

  /** The resume point for `topics` as text (see formatCursor), kept per topic until it moves. */
  cursorText(topics: readonly string[]): string {
    return topics.map((topic) => this.topicText(topic)).join(',');
  }

  private topicText(topic: string): string {
    let text = this.textByTopic.get(topic);
    if (text === undefined) {
      text = formatCursor(this.snapshot([topic]), [topic]);
      this.textByTopic.set(topic, text);
    }
    return text;
  }

  private set(topic: string, partition: number, offset: bigint): void {
    let offsets = this.next.get(topic);
    if (!offsets) this.next.set(topic, (offsets = []));
    offsets[partition] = offset;
    this.textByTopic.delete(topic);
  }
}
