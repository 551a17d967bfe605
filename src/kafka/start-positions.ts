import type { Admin, Assignment, Consumer } from 'kafkajs';
import type { PartitionLog } from '../log/partition-log.js';
import type { ConsumerHealthService } from './consumer-health.service.js';

/** How long start-up waits for partitions that have no leader yet, and the first pause. */
export interface LeaderWait {
  readonly totalMs: number;
  readonly firstMs: number;
}

const LEADER_WAIT: LeaderWait = { totalMs: 30_000, firstMs: 100 };

/**
 * Where the consumer reads each partition. At start-up, from where the replay window starts
 * (offsets by timestamp), so the history is warm once processing reaches the log end of then.
 * On every group join, since the instance commits no offsets, from where processing stands; a
 * partition the log does not know (one added at run time) starts at its beginning, so none of its
 * records is lost.
 */
export class StartPositions {
  constructor(
    private readonly log: PartitionLog,
    private readonly health: ConsumerHealthService,
    private readonly windowMs: number,
    private readonly leaderWait: LeaderWait = LEADER_WAIT,
  ) {}

  /**
   * Registers every partition of `topics` where the window starts and where its log ends now.
   * @throws naming the configured topics that do not exist
   */
  async fromWindow(
    admin: Pick<Admin, 'listTopics' | 'fetchTopicOffsets' | 'fetchTopicOffsetsByTimestamp'>,
    configured: readonly string[],
    topics: readonly string[],
    now = Date.now(),
  ): Promise<void> {
    const existing = new Set(await admin.listTopics());
    const missing = configured.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      throw new Error(
        `KAFKA_TOPICS names topics that do not exist in Kafka: ${missing.join(', ')}. Create them first.`,
      );
    }
    const since = now - this.windowMs;
    for (const topic of topics) {
      const [starts, ends] = await this.whileLeadersMove(() =>
        Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, since), admin.fetchTopicOffsets(topic)]),
      );
      for (const { partition, offset } of starts) {
        const start = Number(offset);
        const end = Number(ends.find((candidate) => candidate.partition === partition)?.high ?? offset);
        this.log.startPartition(topic, partition, start, end);
        this.health.expectEnd(topic, partition, start, end);
      }
    }
  }

  /**
   * A topic created moments before start-up (a deploy that creates its topics first) can have
   * partitions whose leader is not elected yet; the broker says so with a retriable error. Those
   * are retried for a bounded time; anything else, or still failing at the deadline, fails start-up.
   */
  private async whileLeadersMove<T>(ask: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.leaderWait.totalMs;
    for (let delayMs = this.leaderWait.firstMs; ; delayMs *= 2) {
      try {
        return await ask();
      } catch (error) {
        const retriable = (error as { retriable?: unknown } | null)?.retriable === true;
        if (!retriable || Date.now() + delayMs > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /** Moves each assigned partition the log knows to where processing stands. */
  seekOnJoin(consumer: Pick<Consumer, 'seek'>, assignment: Assignment): void {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const offset = this.log.nextOffset(topic, partition);
        if (offset !== undefined) consumer.seek({ topic, partition, offset: String(offset) });
      }
    }
  }
}
