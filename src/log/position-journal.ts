import { formatJournalCursor } from './journal-id.js';
import { LogPosition } from './log-position.js';

/** Writes checkpoints to the positions topic: the Kafka side implements it (kafka/positions-topic.ts). */
export interface JournalWriter {
  /** Writes a checkpoint's cursor text; resolves with its offset in the topic. */
  write(text: string): Promise<number>;
  /**
   * Reads the checkpoint at `offset` from the topic: one older than those kept in memory, or one
   * written by another instance and not read here yet. Undefined if the topic has none there.
   */
  look(offset: number): Promise<string | undefined>;
}

/** A position this instance wrote to the positions topic, as compact ids name it. */
export interface Checkpoint {
  /** Its offset in the positions topic, in base 36: its name in ids. */
  readonly name: string;
  /** The cursor of a stream given nothing since: `@<name>`. */
  readonly cursor: string;
  readonly position: LogPosition;
  /** Each topic's index in the checkpoint, as compact ids number them. */
  readonly topicIndex: ReadonlyMap<string, number>;
  /** How many checkpoints this instance had taken when it took this one (this one included). */
  readonly taken: number;
}

/**
 * The positions journal: every instance writes where it stands to the gateway's positions topic
 * once a second while it moves, and reads what every instance wrote, so that an id naming a
 * checkpoint means the same on all of them (see journal-id.ts). Checkpoints are kept as text, the
 * newest `maxKept` of them.
 */
export class PositionJournal {
  private writer: JournalWriter | undefined;
  private current: Checkpoint | undefined;
  private writing = false;
  private writtenVersion = -1;
  private taken = 0;
  private readonly known = new Map<number, string>();

  constructor(private readonly maxKept: number) {}

  /** Until a writer is attached (the positions topic is there), ids carry full cursors. */
  attach(writer: JournalWriter): void {
    this.writer = writer;
  }

  /** The newest checkpoint of this instance that Kafka has taken. */
  get latest(): Checkpoint | undefined {
    return this.current;
  }

  /** How many checkpoints this instance has taken so far, written or not. */
  get takenSoFar(): number {
    return this.taken;
  }

  /** Takes a checkpoint of `position`, unless nothing moved (`version`) or one is being written. */
  take(position: LogPosition, topics: readonly string[], version: number): void {
    const writer = this.writer;
    if (!writer || this.writing || version === this.writtenVersion) return;
    this.writing = true;
    const taken = ++this.taken;
    const text = position.format(topics);
    writer.write(text).then(
      (offset) => {
        this.writing = false;
        this.writtenVersion = version;
        this.learned(offset, text);
        const name = offset.toString(36);
        this.current = {
          name,
          cursor: formatJournalCursor(name, []),
          position,
          topicIndex: new Map(topics.map((topic, index) => [topic, index])),
          taken,
        };
      },
      () => {
        // Kafka did not take it: ids name the previous one until the next is written.
        this.writing = false;
      },
    );
  }

  /** A checkpoint the positions topic holds at `offset`, from any instance. */
  learned(offset: number, text: string): void {
    this.known.set(offset, text);
    if (this.known.size > this.maxKept) this.known.delete(this.known.keys().next().value!);
  }

  /**
   * Makes sure the checkpoint at `offset` is known here, reading it from the positions topic when
   * memory no longer (or not yet) has it: an id stays good for as long as Kafka keeps its checkpoint.
   */
  async lookUp(offset: number): Promise<void> {
    if (this.known.has(offset) || !this.writer) return;
    const text = await this.writer.look(offset);
    if (text !== undefined) this.learned(offset, text);
  }

  /** The position a checkpoint holds, if it is still kept. */
  resolve(offset: number): LogPosition | undefined {
    const text = this.known.get(offset);
    return text === undefined ? undefined : LogPosition.parse(text);
  }
}
