import { Injectable } from '@nestjs/common';

/** A consumer that has not fetched for this long is taken to have lost Kafka. */
export const FETCH_STALE_MS = 10_000;

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: string[];
}

/**
 * What the probes need to know of the consumer: whether it is in its group, whether it still
 * fetches, whether it has caught up with the log as it was at start-up (the replay buffer is
 * then warm), and whether it stopped: broken while it is being replaced, dead once that failed
 * for too long (liveness then fails too, so the orchestrator replaces the process).
 */
@Injectable()
export class ConsumerHealthService {
  /** `topic/partition` → the end offset at start-up, for partitions not caught up yet. */
  private readonly behind = new Map<string, number>();
  private joined = false;
  private lastFetchAt: number | undefined;
  private lostReason: string | undefined = 'not started';
  private brokenReason: string | undefined;
  /** When the consumer first stopped, until a replacement fetches: rejoining is not recovering. */
  private brokenSince: number | undefined;
  private deadReason: string | undefined;
  private readonly missingTopics = new Set<string>();
  private readonly deathListeners: Array<(reason: string) => void> = [];

  /** Records where a partition's log ended at start-up; it is warm once processing gets there. */
  expectEnd(topic: string, partition: number, start: number, end: number): void {
    if (start < end) this.behind.set(`${topic}/${partition}`, end);
  }

  /** Processing of a partition reached `next` (the next offset to process). */
  reached(topic: string, partition: number, next: number): void {
    if (this.behind.size === 0) return;
    const key = `${topic}/${partition}`;
    const end = this.behind.get(key);
    if (end !== undefined && next >= end) this.behind.delete(key);
  }

  joinedGroup(): void {
    this.joined = true;
    this.lostReason = undefined;
  }

  lost(reason: string): void {
    this.joined = false;
    this.lostReason = reason;
  }

  /**
   * The consumer stopped and is being replaced: not ready until a replacement fetches. A consumer
   * that joins its group and stops again (a record it cannot read) has not recovered, so the
   * recovery deadline runs from the first stop.
   */
  broken(reason: string, now = Date.now()): void {
    this.lost(`stopped: ${reason}`);
    this.brokenReason = reason;
    this.brokenSince ??= now;
  }

  /** Whether a stopped consumer is being replaced. */
  get recovering(): boolean {
    return this.brokenSince !== undefined;
  }

  /**
   * Gives up (see `dead`) once the consumer has been stopped for longer than `timeoutMs` without
   * a replacement fetching; true then.
   */
  checkRecovery(timeoutMs: number, reason = this.brokenReason, now = Date.now()): boolean {
    if (this.brokenSince === undefined || now - this.brokenSince <= timeoutMs) return false;
    this.dead(reason ?? 'stopped');
    return true;
  }

  /** Replacing the consumer failed for too long: the process should be replaced. */
  dead(reason: string): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    for (const listener of this.deathListeners) listener(reason);
  }

  onDeath(listener: (reason: string) => void): void {
    this.deathListeners.push(listener);
  }

  topicMissing(topic: string, missing: boolean): void {
    if (missing) this.missingTopics.add(topic);
    else this.missingTopics.delete(topic);
  }

  /** A fetch came back: a consumer being replaced has recovered. */
  fetched(now = Date.now()): void {
    this.lastFetchAt = now;
    this.brokenReason = undefined;
    this.brokenSince = undefined;
  }

  get warm(): boolean {
    return this.behind.size === 0;
  }

  /** Partitions not caught up with the log as it was at start-up. */
  get partitionsBehind(): number {
    return this.behind.size;
  }

  /** What keeps the consumer from following Kafka right now; empty when it does. */
  kafkaProblems(now = Date.now()): string[] {
    const problems: string[] = [];
    if (this.brokenReason !== undefined) {
      problems.push(`Kafka consumer stopped (${this.brokenReason}); replacing it`);
    } else if (!this.joined) {
      problems.push(`Kafka consumer not in its group (${this.lostReason ?? 'joining'})`);
    }
    if (this.lastFetchAt === undefined || now - this.lastFetchAt > FETCH_STALE_MS) {
      problems.push(`no fetch from Kafka for over ${FETCH_STALE_MS / 1000} s`);
    }
    for (const topic of this.missingTopics) problems.push(`topic ${topic} does not exist in Kafka`);
    return problems;
  }

  readiness(now = Date.now()): Readiness {
    const reasons = this.kafkaProblems(now);
    if (!this.warm) reasons.push(`replay buffer warming up: ${this.behind.size} partition(s) behind`);
    return { ready: reasons.length === 0, reasons };
  }

  /** Live unless the consumer could not be replaced in time. */
  liveness(): Readiness {
    return this.deadReason === undefined
      ? { ready: true, reasons: [] }
      : {
          ready: false,
          reasons: [`the Kafka consumer stopped and could not be replaced: ${this.deadReason}`],
        };
  }
}
