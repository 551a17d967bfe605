import { CURSOR_TOPIC_SEPARATOR, LogPosition } from './log-position.js';
import type { FetchedAt } from './partition-batch.js';

/**
 * For each topic-partition, the next offset this instance has not processed yet. Events reach
 * subscribers in processing order, so this is also a resume point for every stream on this
 * instance: everything before it that was addressed to a stream has been given to it. It also
 * knows where each log ended at start-up (before that is history, not live) and the latest log
 * end seen, and keeps each topic's cursor text until the topic moves.
 */
export class LogTracker {
  private readonly next = LogPosition.empty();
  private readonly liveFrom = LogPosition.empty();
  /** Per topic and partition, the latest log end seen and when. */
  private readonly logEnds = new Map<string, Array<{ end: number; seenAt: number } | undefined>>();
  /** Per partition, the first offset Kafka still has (the log watch reads it). */
  private readonly logStarts = LogPosition.empty();
  private readonly cursorTexts = new Map<string, string>();
  /** The cursor texts of topic sets, valid while `version` is theirs. */
  private readonly joinedTexts = new WeakMap<readonly string[], { version: number; text: string }>();
  private textVersion = 0;

  /** Changes whenever a cursor text may have: positions moved, a partition started or went. */
  get version(): number {
    return this.textVersion;
  }

  nextOffset(topic: string, partition: number): number | undefined {
    return this.next.get(topic, partition);
  }

  knows(topic: string, partition: number): boolean {
    return this.next.get(topic, partition) !== undefined;
  }

  /** Sets where processing of a partition starts, unless it started already. */
  startAt(topic: string, partition: number, offset: number, logEndAtStart?: number): void {
    if (this.knows(topic, partition)) return;
    this.set(topic, partition, offset);
    if (logEndAtStart !== undefined) {
      this.liveFrom.set(topic, partition, logEndAtStart);
      this.sawLogEnd(topic, partition, logEndAtStart);
    }
  }

  /**
   * Marks a record of the batch being processed done. Returns false for a record processed before
   * (a redelivery). The cursor text stays what it was when the batch began, until `moveTo` ends
   * the batch: an event's id names its own offset before the cursor, which a resume reads for
   * that partition (see LogPosition.parse), so the text is built once per batch, not per event.
   */
  advance(topic: string, partition: number, offset: number): boolean {
    const next = this.next.get(topic, partition);
    if (next !== undefined && offset < next) return false;
    this.next.set(topic, partition, offset + 1);
    return true;
  }

  /** Ends a batch: moves past its last record, with or without an event. */
  moveTo(topic: string, partition: number, next: number): void {
    const current = this.next.get(topic, partition);
    if (current === undefined || next > current) this.next.set(topic, partition, next);
    this.textChanged(topic);
  }

  /**
   * Whether a fetched batch shows the log changed under the instance: the consumer jumped past
   * records never processed (retention overtook it), or the log is now shorter than where
   * processing stands (the topic was deleted and recreated, or another cluster took over).
   */
  isDiscontinuity(topic: string, partition: number, fetched: FetchedAt): boolean {
    const next = this.next.get(topic, partition);
    if (next === undefined || fetched.fetchedOffset === next) return false;
    if (fetched.fetchedOffset > next) return true;
    return fetched.offsetReset || fetched.highWatermark < next;
  }

  /** Processing of a partition starts over at `offset`, after a discontinuity. */
  rebase(topic: string, partition: number, offset: number): void {
    this.set(topic, partition, offset);
    this.liveFrom.delete(topic, partition);
  }

  /** Forgets a partition: another instance owns it now (partition-owner mode). */
  forget(topic: string, partition: number): void {
    this.next.delete(topic, partition);
    this.liveFrom.delete(topic, partition);
    this.logStarts.delete(topic, partition);
    const ends = this.logEnds.get(topic);
    if (ends && partition < ends.length) ends[partition] = undefined;
    this.textChanged(topic);
  }

  sawLogEnd(topic: string, partition: number, end: number, now = Date.now()): void {
    let ends = this.logEnds.get(topic);
    if (!ends) this.logEnds.set(topic, (ends = []));
    ends[partition] = { end, seenAt: now };
  }

  sawLogStart(topic: string, partition: number, start: number): void {
    this.logStarts.set(topic, partition, start);
  }

  /** The first offset Kafka had for a partition when last looked up. */
  logStartOf(topic: string, partition: number): number | undefined {
    return this.logStarts.get(topic, partition);
  }

  /** The partitions of `topic` the instance processes. */
  partitionsOf(topic: string): number[] {
    const partitions: number[] = [];
    for (let partition = 0; partition < this.next.partitionCount(topic); partition++)
      if (this.knows(topic, partition)) partitions.push(partition);
    return partitions;
  }

  /** The latest log end seen for a partition, and when (0: never). */
  logEndOf(topic: string, partition: number): { end: number | undefined; seenAt: number } {
    const seen = this.logEnds.get(topic)?.[partition];
    return seen ? { ...seen } : { end: undefined, seenAt: 0 };
  }

  /** A copy of the positions of `topics`. */
  snapshot(topics: readonly string[]): LogPosition {
    return this.next.snapshot(topics);
  }

  /**
   * Where a stream without a usable id starts: the current positions, except while the instance
   * still reads the window's history after start-up; then at the log end as it was then, so
   * history is not sent as if it were live.
   */
  liveStart(topics: readonly string[]): LogPosition {
    return this.next.snapshot(topics).mergeMax(this.liveFrom);
  }

  /** Where the log ended at start-up, for a partition known then. */
  liveFromOf(topic: string, partition: number): number | undefined {
    return this.liveFrom.get(topic, partition);
  }

  /** The resume point of a stream on `topics` (one shared array per topic set), as cursor text. */
  cursorText(topics: readonly string[]): string {
    if (topics.length === 1) return this.topicText(topics[0]!);
    const cached = this.joinedTexts.get(topics);
    if (cached?.version === this.textVersion) return cached.text;
    let text = '';
    for (const topic of topics) {
      text = text === '' ? this.topicText(topic) : text + CURSOR_TOPIC_SEPARATOR + this.topicText(topic);
    }
    this.joinedTexts.set(topics, { version: this.textVersion, text });
    return text;
  }

  private topicText(topic: string): string {
    let text = this.cursorTexts.get(topic);
    if (text === undefined) {
      text = this.next.formatTopic(topic);
      this.cursorTexts.set(topic, text);
    }
    return text;
  }

  private set(topic: string, partition: number, offset: number): void {
    this.next.set(topic, partition, offset);
    this.textChanged(topic);
  }

  private textChanged(topic: string): void {
    this.cursorTexts.delete(topic);
    this.textVersion++;
  }
}
