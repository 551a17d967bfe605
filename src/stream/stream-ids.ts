import { addGiven, formatJournalCursor } from '../log/journal-id.js';
import type { LogPosition, RecordPosition } from '../log/log-position.js';
import type { LogReader } from '../log/partition-log.js';
import type { Checkpoint } from '../log/position-journal.js';

/** Where a stream stands on a partition where it was given events since its checkpoint. */
interface Given {
  readonly topic: string;
  readonly partition: number;
  next: number;
}

const NOTHING: readonly number[] = [];

/**
 * The compact ids of one live stream (see log/journal-id.ts): its instance's newest checkpoint,
 * and where the stream stands past it on the partitions where it was given events since, so an
 * id stays a few dozen characters whatever the partition count. Where that cannot be said
 * exactly, the stream's ids carry the full cursor: while no checkpoint is written, and until one
 * is taken after the stream went live if its events between the checkpoint and its start are not
 * in the replay store.
 */
export class StreamIds {
  private readonly given: Given[] = [];
  private base: Checkpoint | undefined;
  /** Checkpoints taken before this one (by count) cannot name where this stream stands. */
  private usableFrom = Infinity;

  constructor(
    private readonly log: LogReader,
    private readonly userId: string,
    private readonly topics: readonly string[],
  ) {}

  /** The stream is live, given everything of its before `position` (and nothing past it). */
  goLive(position: LogPosition): void {
    this.reset();
    // Where it starts past what the instance processed (a live start while the instance still
    // reads its window's history), that is where it stands: listed until a checkpoint passes it.
    const processed = this.log.position(this.topics);
    for (const [topic, partition, offset] of position.entries()) {
      if (offset > (processed.get(topic, partition) ?? -1))
        this.given.push({ topic, partition, next: offset });
    }
    const latest = this.log.latestCheckpoint();
    if (!latest) return;
    // Its events between the checkpoint and what the instance processed were given, or were
    // before its start: either way, not to be given again.
    const source = this.log.resume(this.userId, this.topics, latest.position.snapshot(this.topics));
    if (source.kind !== 'store') return;
    for (const event of source.events) this.delivered(event);
    this.base = latest;
    this.usableFrom = latest.taken;
  }

  /** Until a checkpoint taken from now on, ids carry the full cursor (the log changed under it). */
  reset(): void {
    this.given.length = 0;
    this.base = undefined;
    this.usableFrom = this.log.checkpointsTaken() + 1;
  }

  /** The stream was given `event`. */
  delivered(event: RecordPosition): void {
    for (const entry of this.given) {
      if (entry.partition === event.partition && entry.topic === event.topic) {
        entry.next = event.offset + 1;
        return;
      }
    }
    this.given.push({ topic: event.topic, partition: event.partition, next: event.offset + 1 });
  }

  /** The cursor part of the id of `event` (given to the stream just now), or undefined. */
  cursorOf(event: RecordPosition): string | undefined {
    return this.cursor(event);
  }

  /** The stream's resume point as a compact cursor, or undefined. */
  resumePoint(): string | undefined {
    return this.cursor(undefined);
  }

  private cursor(own: RecordPosition | undefined): string | undefined {
    const latest = this.log.latestCheckpoint();
    if (!latest || latest.taken < this.usableFrom) return undefined;
    if (latest !== this.base) this.rebase(latest);
    let given: number[] | undefined;
    for (const entry of this.given) {
      // The event's own partition is in the id, before the cursor.
      if (own && entry.partition === own.partition && entry.topic === own.topic) continue;
      const index = latest.topicIndex.get(entry.topic);
      if (index === undefined) return undefined;
      given ??= [];
      addGiven(
        given,
        index,
        entry.partition,
        entry.next - (latest.position.get(entry.topic, entry.partition) ?? 0),
      );
    }
    return given ? formatJournalCursor(latest.name, given ?? NOTHING) : latest.cursor;
  }

  /** A newer checkpoint: what it holds is given, only what came after stays listed. */
  private rebase(latest: Checkpoint): void {
    for (let i = this.given.length - 1; i >= 0; i--) {
      const entry = this.given[i]!;
      if (entry.next <= (latest.position.get(entry.topic, entry.partition) ?? 0)) this.given.splice(i, 1);
    }
    this.base = latest;
  }
}
