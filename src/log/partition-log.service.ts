import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { broadcastKey, userKey } from './audience.js';
import {
  CatchUpScans,
  type CatchUpListener,
  type CatchUpRange,
  type CatchUpRequest,
  type HistoryReader,
} from './catch-up.js';
import type { GatewayEvent } from './gateway-event.js';
import type { LogPosition } from './log-position.js';
import { LogTracker } from './log-tracker.js';
import type { PartitionBatch } from './partition-batch.js';
import type { LogFollower, PartitionLog, ResumeSource } from './partition-log.js';
import { PositionJournal, type Checkpoint, type JournalWriter } from './position-journal.js';
import { ReplayStore } from './replay-store.js';

const EVICTION_INTERVAL_MS = 1000;
/** Checkpoints of every instance kept to resolve compact ids: an hour of three instances. */
const CHECKPOINTS_KEPT = 10_000;

const NO_FOLLOWER: LogFollower = {
  appended: () => 0,
  logChanged: () => undefined,
  feedLost: () => undefined,
};

/**
 * The instance's view of the Kafka log: where processing stands on every partition (LogTracker),
 * the recent events (ReplayStore), and Kafka itself for what is older (CatchUpScans): memory is a
 * cache of the history, Kafka is the history. Kafka appends whole batches to it; as each event is
 * appended its follower (the event bus) hands it on, so a stream's id is the log's position just
 * past the event.
 */
@Injectable()
export class PartitionLogService implements PartitionLog, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PartitionLog');
  private readonly tracker = new LogTracker();
  private readonly store: ReplayStore;
  private readonly scans: CatchUpScans;
  private readonly horizonRecords: number;
  private readonly journal = new PositionJournal(CHECKPOINTS_KEPT);
  /** Every configured topic, sorted: the topics of a checkpoint. */
  private readonly topics: readonly string[];
  private follower: LogFollower = NO_FOLLOWER;
  private evictionTimer: NodeJS.Timeout | undefined;
  private feedLostReason: string | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly metrics: MetricsService,
  ) {
    this.store = new ReplayStore(config.replay);
    this.horizonRecords = config.resume.horizonRecords;
    this.topics = [...config.kafka.topics].sort();
    this.scans = new CatchUpScans(config.resume.maxScans, {
      scanStarted: () => metrics.catchUp('started'),
      joined: () => metrics.catchUp('joined'),
      scanned: (records) => metrics.catchUpRecordsOf('scanned', records),
      served: (events) => metrics.catchUpRecordsOf('served', events),
    });
  }

  onModuleInit(): void {
    this.evictionTimer = setInterval(() => {
      this.store.evict();
      this.metrics.replayStore(this.store.bytes, this.store.size);
      this.metrics.catchUpLag(this.scans.lag);
      this.takeCheckpoint();
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
      this.store.append(event, now);
      const recipients = this.follower.appended(event);
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

  sawLogStart(topic: string, partition: number, start: number): void {
    this.tracker.sawLogStart(topic, partition, start);
  }

  readHistoryWith(reader: HistoryReader): void {
    this.scans.attach(reader);
  }

  takeHistory(batch: PartitionBatch<GatewayEvent>): void {
    this.scans.take(batch);
  }

  /** Writes where the instance stands to the positions journal, if it moved since the last time. */
  takeCheckpoint(): void {
    this.journal.take(this.tracker.snapshot(this.topics), this.topics, this.tracker.version);
  }

  journalWith(writer: JournalWriter): void {
    this.journal.attach(writer);
  }

  learnCheckpoint(offset: number, text: string): void {
    this.journal.learned(offset, text);
  }

  latestCheckpoint(): Checkpoint | undefined {
    return this.journal.latest;
  }

  checkpointsTaken(): number {
    return this.journal.takenSoFar;
  }

  checkpoint(offset: number): LogPosition | undefined {
    return this.journal.resolve(offset);
  }

  lookUpCheckpoint(offset: number): Promise<void> {
    return this.journal.lookUp(offset);
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

  partitionsOf(topic: string): number[] {
    return this.tracker.partitionsOf(topic);
  }

  logStartOf(topic: string, partition: number): number | undefined {
    return this.tracker.logStartOf(topic, partition);
  }

  /**
   * From the replay store when it holds everything after `from` for the stream's keys; otherwise
   * the ranges to read from Kafka first, up to where the store takes over, unless Kafka no longer
   * has them or they are more records than one resume reads.
   */
  resume(userId: string, topics: readonly string[], from: LogPosition): ResumeSource {
    const keys = [userKey(userId), ...topics.map(broadcastKey)];
    const ranges: CatchUpRange[] = [];
    let records = 0;
    for (const [topic, partition, offset] of from.entries()) {
      if (offset < (this.tracker.logStartOf(topic, partition) ?? 0))
        return { kind: 'gap', reason: 'expired' };
      const complete = this.store.completeFor(keys, topic, partition);
      if (complete === undefined || offset >= complete) continue;
      ranges.push({ topic, partition, from: offset, to: complete });
      records += complete - offset;
    }
    if (ranges.length === 0) {
      const replay = this.store.replay(keys, new Set(topics), from);
      // The store holds everything it was just asked about, or it does not know a partition.
      return replay.ok ? { kind: 'store', events: replay.events } : { kind: 'gap', reason: 'expired' };
    }
    if (records > this.horizonRecords) {
      this.metrics.catchUp('beyond-horizon');
      return { kind: 'gap', reason: 'beyond-horizon' };
    }
    return { kind: 'kafka', request: { keys, ranges } };
  }

  catchUp(request: CatchUpRequest, listener: CatchUpListener): () => void {
    return this.scans.start(request, listener);
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
