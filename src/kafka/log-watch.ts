import type { LoggerService } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import type { PartitionLog } from '../log/partition-log.js';
import type { ConsumerMembership } from '../ownership/ownership.js';
import type { ConsumerHealthService } from './consumer-health.service.js';

export interface LogWatchOptions {
  readonly admin: Pick<Admin, 'fetchTopicOffsets'>;
  readonly log: PartitionLog;
  readonly health: ConsumerHealthService;
  readonly membership: ConsumerMembership;
  readonly topics: readonly string[];
  readonly intervalMs: number;
  readonly recoveryTimeoutMs: number;
  readonly logger: LoggerService;
}

/**
 * Looks up every partition's log start and end every KAFKA_METADATA_REFRESH_MS: partitions added
 * at run time start at their beginning, resumes that claim positions past the log, or before what
 * Kafka still has, are judged against them, and a topic deleted under the gateway fails readiness. It also gives up on a consumer that
 * has been stopped too long, even when no attempt to replace it is under way.
 */
export class LogWatch {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: LogWatchOptions) {}

  start(): void {
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => {
        if (!this.stopped) this.start();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async refresh(): Promise<void> {
    const { admin, log, health, membership, logger } = this.options;
    if (health.recovering) health.checkRecovery(this.options.recoveryTimeoutMs);
    for (const topic of this.options.topics) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        health.topicMissing(topic, false);
        for (const { partition, low, high } of offsets) {
          if (!log.knows(topic, partition) && membership.startsOnSight(topic)) {
            logger.log(`New partition ${topic}/${partition}: reading it from offset ${low}`);
            log.startPartition(topic, partition, Number(low));
          }
          log.sawLogStart(topic, partition, Number(low));
          log.sawLogEnd(topic, partition, Number(high));
        }
      } catch (err) {
        const missing = (err as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
        health.topicMissing(topic, missing);
        if (!missing) logger.debug?.(`Could not look up the log ends of ${topic}: ${describeError(err)}`);
      }
    }
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
