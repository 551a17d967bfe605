import { Injectable } from '@nestjs/common';

/** A consumer that has not fetched for this long is taken to have lost Kafka. */
export const FETCH_STALE_MS = 10_000;

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: string[];
}

/**
 * What readiness needs to know of the consumer: whether it is in its group, whether it still
 * fetches, and whether it has caught up with the log as it was at start-up (the replay buffer is
 * then warm).
 */
@Injectable()
export class ConsumerStateService {
  /** `topic/partition` → the end offset at start-up, for partitions not caught up yet. */
  private readonly behind = new Map<string, bigint>();
  private joined = false;
  private lastFetchAt: number | undefined;
  private lostReason: string | undefined = 'not started';

  /** Records where a partition's log ended at start-up; it is warm once processing gets there. */
  expectEnd(topic: string, partition: number, start: bigint, end: bigint): void {
    if (start < end) this.behind.set(`${topic}/${partition}`, end);
  }

  /** Processing of a partition reached `next` (the next offset to process). */
  reached(topic: string, partition: number, next: bigint): void {
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

  fetched(now = Date.now()): void {
    this.lastFetchAt = now;
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
    if (!this.joined) problems.push(`Kafka consumer not in its group (${this.lostReason ?? 'joining'})`);
    if (this.lastFetchAt === undefined || now - this.lastFetchAt > FETCH_STALE_MS) {
      problems.push(`no fetch from Kafka for over ${FETCH_STALE_MS / 1000} s`);
    }
    return problems;
  }

  readiness(now = Date.now()): Readiness {
    const reasons = this.kafkaProblems(now);
    if (!this.warm) reasons.push(`replay buffer warming up: ${this.behind.size} partition(s) behind`);
    return { ready: reasons.length === 0, reasons };
  }
}
