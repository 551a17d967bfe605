import type { LogPosition, RecordPosition } from '../log/log-position.js';
import type { LogReader } from '../log/partition-log.js';

/**
 * Where a stream stands. Usually at the instance's own position, so its resume point is the log's
 * cached cursor text. A client that came from a faster instance is ahead on some partitions: it
 * was given events the instance has not processed yet, so those are not sent again, and its resume
 * point keeps its own offsets there until the instance catches up. A position past the end of the
 * log is from another log (a recreated topic, another cluster): once log ends newer than the
 * stream are known, the partitions it still claims past them are reset to the instance's.
 */
export class StreamPosition {
  private ahead: LogPosition | undefined;
  /** Since when the stream claims positions past the log ends known then. */
  private aheadSince: number | undefined;

  constructor(
    private readonly log: LogReader,
    private readonly topics: readonly string[],
  ) {}

  /** The stream was given everything before `given`. */
  startAt(given: LogPosition, now: number): void {
    this.ahead = given.aheadOf(this.log.position(this.topics));
    this.aheadSince = this.ahead && this.claimsPastLogEnd() ? now : undefined;
  }

  /** Whether the stream was given `event` before it came here. */
  has(event: RecordPosition): boolean {
    const given = this.ahead?.get(event.topic, event.partition);
    return given !== undefined && event.offset < given;
  }

  get isAhead(): boolean {
    return this.ahead !== undefined;
  }

  /** When to judge a claimed position again, if the stream claims one past the log. */
  claimCheckDue(logEndRefreshMs: number): number | undefined {
    return this.aheadSince === undefined ? undefined : this.aheadSince + logEndRefreshMs + 500;
  }

  /** The resume point: the instance's position, the stream's own where that is ahead. */
  resumePoint(): string {
    if (!this.ahead) return this.log.cursorText(this.topics);
    const position = this.log.position(this.topics);
    const merged = position.snapshot().mergeMax(this.ahead);
    this.ahead = merged.aheadOf(position);
    if (!this.ahead) this.aheadSince = undefined;
    return merged.format(this.topics);
  }

  logChanged(topic: string, partition: number): void {
    this.ahead?.delete(topic, partition);
  }

  /**
   * Judges a claimed position against log ends newer than the stream (the client's instance may
   * have known more than older ones). Returns whether partitions were reset to the instance's.
   */
  judgeClaim(): boolean {
    const since = this.aheadSince;
    if (since === undefined) return false;
    const wrong: Array<[string, number]> = [];
    for (const [topic, partition, offset] of this.ahead?.entries() ?? []) {
      const { end, seenAt } = this.log.logEndOf(topic, partition);
      if (seenAt <= since) return false;
      if (end === undefined || offset > end) wrong.push([topic, partition]);
    }
    this.aheadSince = undefined;
    for (const [topic, partition] of wrong) this.ahead?.delete(topic, partition);
    return wrong.length > 0;
  }

  private claimsPastLogEnd(): boolean {
    for (const [topic, partition, offset] of this.ahead?.entries() ?? []) {
      const { end } = this.log.logEndOf(topic, partition);
      if (end === undefined || offset > end) return true;
    }
    return false;
  }
}
