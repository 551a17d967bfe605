import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { audienceKeys, broadcastKey, userKey } from './audience.js';
import type { GatewayEvent } from './gateway-event.js';
import type { LogPosition } from './log-position.js';
import { LogTracker } from './log-tracker.js';
import type { PartitionBatch } from './partition-batch.js';
import type { LogFollower, PartitionLog } from './partition-log.js';
import { ReplayStore, type ReplayResult } from './replay-store.js';

const EVICTION_INTERVAL_MS = 1000;

const NO_FOLLOWER: LogFollower = {
  appended: () => 0,
  logChanged: () => undefined,
  feedLost: () => undefined,
};

/**
 * The instance's view of the Kafka log: where processing stands on every partition (LogTracker)
 * and the recent events for resumes (ReplayStore). Kafka appends whole batches to it; as each event
 * is appended its follower (the event bus) hands it on, so a stream's id is the log's position
 * just past the event.
 */
@Injectable()
export class PartitionLogService implements PartitionLog, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PartitionLog');
  private readonly tracker = new LogTracker();
  private readonly store: ReplayStore;
  private follower: LogFollower = NO_FOLLOWER;
  private evictionTimer: NodeJS.Timeout | undefined;
  private feedLostReason: string | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly metrics: MetricsService,
  ) {
    this.store = new ReplayStore(config.replay);
  }

  onModuleInit(): void {
    this.evictionTimer = setInterval(() => {
      this.store.evict();
      this.metrics.replayStore(this.store.bytes, this.store.size);
    }, EVICTION_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.evictionTimer);
  }

  follow(follower: LogFollower): void {
    this.follower = follower;
  }

  get bufferedEvents(): number {
    return this.store.size;
  }

  get available(): boolean {
    return this.feedLostReason === undefined;
  }

  // ---- the Kafka side ------------------------------------------------------------------------

  startPartition(topic: string, partition: number, offset: number, logEndAtStart?: number): void {
    if (this.tracker.knows(topic, partition)) return;
    this.tracker.startAt(topic, partition, offset, logEndAtStart);
    this.store.completeFrom(topic, partition, offset);
  }

  append(batch: PartitionBatch<GatewayEvent>, now = Date.now()): number {
    const { topic, partition } = batch;
    // A partition assigned before the log watch saw it: the consumer reads it from its beginning.
    if (!this.tracker.knows(topic, partition)) this.startPartition(topic, partition, batch.fetchedOffset);
    this.tracker.sawLogEnd(topic, partition, batch.highWatermark, now);
    if (this.tracker.isDiscontinuity(topic, partition, batch))
      this.logChanged(topic, partition, batch.fetchedOffset);
    let delivered = 0;
    for (const event of batch.records) {
      // A record processed before (Kafka redelivers after a rebalance) reaches nobody twice.
      if (!this.tracker.advance(topic, partition, event.offset)) continue;
      const keys = audienceKeys(topic, event.audience);
      this.store.append(event, keys, now);
      const recipients = this.follower.appended(event, keys);
      if (recipients > 0) this.metrics.deliveryLatencyMs(now - event.timestamp);
      delivered += recipients;
    }
    this.tracker.moveTo(topic, partition, batch.next);
    this.metrics.delivered(delivered);
    return delivered;
  }

  advanceTo(topic: string, partition: number, next: number): void {
    this.tracker.moveTo(topic, partition, next);
  }

  sawLogEnd(topic: string, partition: number, end: number, now = Date.now()): void {
    this.tracker.sawLogEnd(topic, partition, end, now);
  }

  nextOffset(topic: string, partition: number): number | undefined {
    return this.tracker.nextOffset(topic, partition);
  }

  liveFromOf(topic: string, partition: number): number | undefined {
    return this.tracker.liveFromOf(topic, partition);
  }

  dropPartitions(topic: string, partitions: ReadonlySet<number>): void {
    for (const partition of partitions) {
      this.tracker.forget(topic, partition);
      this.metrics.forgetLag(topic, partition);
    }
    this.store.dropPartitions(topic, partitions);
    this.metrics.replayStore(this.store.bytes, this.store.size);
  }

  feedLost(reason: string): void {
    if (this.feedLostReason !== undefined) return;
    this.feedLostReason = reason;
    this.follower.feedLost();
  }

  feedRestored(): void {
    this.feedLostReason = undefined;
  }

  // ---- the stream side -----------------------------------------------------------------------

  knows(topic: string, partition: number): boolean {
    return this.tracker.knows(topic, partition);
  }

  logEndOf(topic: string, partition: number): { end: number | undefined; seenAt: number } {
    return this.tracker.logEndOf(topic, partition);
  }

  liveStart(topics: readonly string[]): LogPosition {
    return this.tracker.liveStart(topics);
  }

  position(topics: readonly string[]): LogPosition {
    return this.tracker.snapshot(topics);
  }

  cursorText(topics: readonly string[]): string {
    return this.tracker.cursorText(topics);
  }

  replay(userId: string, topics: readonly string[], from: LogPosition): ReplayResult {
    return this.store.replay([userKey(userId), ...topics.map(broadcastKey)], new Set(topics), from);
  }

  /** The log of a partition changed under the instance: history there means nothing any more. */
  private logChanged(topic: string, partition: number, from: number): void {
    this.logger.warn(
      `The log of ${topic}/${partition} changed under the gateway (processing stood at ` +
        `${String(this.tracker.nextOffset(topic, partition))}, the consumer reads from ${from}); its streams get a reset`,
    );
    this.metrics.logDiscontinuity(topic);
    this.tracker.rebase(topic, partition, from);
    this.store.forgetPartition(topic, partition, from);
    this.follower.logChanged(topic, partition);
  }
}
