import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { audienceKeys, broadcastKey, userKey } from './audience.js';
import type { GatewayEvent } from './gateway-event.js';
import { formatEventId, type LogPosition } from './log-position.js';
import { LogTracker, type FetchedAt } from './log-tracker.js';
import { ReplayStore, type ReplayResult } from './replay-store.js';
import type { HubSubscriber, StreamHub, TopicSet } from './stream-hub.js';
import { SubscriberIndex } from './subscriber-index.js';

/** The valid events of one fetched batch of one partition, in offset order. */
export interface EventBatch extends FetchedAt {
  readonly topic: string;
  readonly partition: number;
  readonly events: readonly GatewayEvent[];
  /** The offset after the batch's last record, valid or not. */
  readonly next: number;
}

const EVICTION_INTERVAL_MS = 1000;

/**
 * The hub between the Kafka consumer and the open streams: a subscriber index, the instance's
 * log positions and the replay store, side by side. Kafka hands it whole batches (`dispatch`);
 * streams see it through the StreamHub port.
 */
@Injectable()
export class EventBusService implements StreamHub, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EventBusService.name);
  private readonly tracker = new LogTracker();
  private readonly store: ReplayStore;
  private readonly subscribers = new SubscriberIndex();
  private readonly topicSets = new Map<string, TopicSet>();
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

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get bufferedEvents(): number {
    return this.store.size;
  }

  get available(): boolean {
    return this.feedLostReason === undefined;
  }

  // ---- the Kafka side ------------------------------------------------------------------------

  /**
   * Where processing of a partition starts (the store holds everything from there on) and,
   * optionally, where its log ended at start-up: what is before that is history, not live.
   */
  startPartition(topic: string, partition: number, offset: number, logEndAtStart?: number): void {
    if (this.tracker.knows(topic, partition)) return;
    this.tracker.startAt(topic, partition, offset, logEndAtStart);
    this.store.completeFrom(topic, partition, offset);
  }

  /** Hands a batch's events to their streams, in one pass. Returns how many streams got one. */
  dispatch(batch: EventBatch, now = Date.now()): number {
    const { topic, partition } = batch;
    // A partition assigned before the log watch saw it: the consumer reads it from its beginning.
    if (!this.tracker.knows(topic, partition)) this.startPartition(topic, partition, batch.fetchedOffset);
    this.tracker.sawLogEnd(topic, partition, batch.highWatermark, now);
    if (this.tracker.isDiscontinuity(topic, partition, batch))
      this.logChanged(topic, partition, batch.fetchedOffset);
    let delivered = 0;
    for (const event of batch.events) {
      // A record processed before (Kafka redelivers after a rebalance) reaches nobody twice.
      if (!this.tracker.advance(topic, partition, event.offset)) continue;
      const keys = audienceKeys(topic, event.audience);
      this.store.append(event, keys, now);
      const recipients = this.route(event, keys);
      if (recipients > 0) this.metrics.deliveryLatencyMs(now - event.timestamp);
      delivered += recipients;
    }
    this.tracker.moveTo(topic, partition, batch.next);
    this.metrics.delivered(delivered);
    return delivered;
  }

  /** Moves past records that reached no handler (a batch of only transaction markers). */
  advanceTo(topic: string, partition: number, next: number): void {
    this.tracker.moveTo(topic, partition, next);
  }

  sawLogEnd(topic: string, partition: number, end: number, now = Date.now()): void {
    this.tracker.sawLogEnd(topic, partition, end, now);
  }

  /** Where processing of a partition stands, for the consumer to seek to after a rebalance. */
  nextOffset(topic: string, partition: number): number | undefined {
    return this.tracker.nextOffset(topic, partition);
  }

  /** Where a partition's log ended at start-up; records before it are history. */
  liveFromOf(topic: string, partition: number): number | undefined {
    return this.tracker.liveFromOf(topic, partition);
  }

  /**
   * Forgets partitions another instance owns now (partition-owner mode): their positions and
   * buffered events. Their streams were ended before, with their resume points.
   */
  dropPartitions(topic: string, partitions: ReadonlySet<number>): void {
    for (const partition of partitions) {
      this.tracker.forget(topic, partition);
      this.metrics.forgetLag(topic, partition);
    }
    this.store.dropPartitions(topic, partitions);
    this.metrics.replayStore(this.store.bytes, this.store.size);
  }

  /** The consumer cannot follow Kafka: streams are told to move to another instance. */
  feedLost(reason: string): void {
    if (this.feedLostReason !== undefined) return;
    this.feedLostReason = reason;
    for (const subscriber of this.subscribers.all()) subscriber.feedLost();
  }

  feedRestored(): void {
    this.feedLostReason = undefined;
  }

  // ---- the stream side (StreamHub) -----------------------------------------------------------

  topicSet(topics: readonly string[]): TopicSet {
    const key = topics.join(',');
    let set = this.topicSets.get(key);
    if (!set) this.topicSets.set(key, (set = { topics: [...topics], key }));
    return set;
  }

  knows(topic: string, partition: number): boolean {
    return this.tracker.knows(topic, partition);
  }

  logEndOf(topic: string, partition: number): { end: number | undefined; seenAt: number } {
    return this.tracker.logEndOf(topic, partition);
  }

  liveStart(topics: TopicSet): LogPosition {
    return this.tracker.liveStart(topics.topics);
  }

  position(topics: TopicSet): LogPosition {
    return this.tracker.snapshot(topics.topics);
  }

  cursorText(topics: TopicSet): string {
    return this.tracker.cursorText(topics.topics);
  }

  replay(userId: string, topics: TopicSet, from: LogPosition): ReplayResult {
    const keys = [userKey(userId), ...topics.topics.map(broadcastKey)];
    return this.store.replay(keys, new Set(topics.topics), from);
  }

  subscribe(subscriber: HubSubscriber): () => void {
    this.subscribers.add(subscriber);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.subscribers.remove(subscriber);
    };
  }

  // ---- routing -------------------------------------------------------------------------------

  private route(event: GatewayEvent, keys: readonly string[]): number {
    let delivered = 0;
    if (event.audience.kind === 'broadcast') {
      // One id for each group of streams on the same topics.
      for (const [topics, group] of this.subscribers.groupsOf(event.topic)) {
        const id = this.idFor(event, topics);
        for (const subscriber of group) delivered += this.hand(subscriber, event, id);
      }
      return delivered;
    }
    for (const key of keys) {
      const holders = this.subscribers.holdersOf(event.topic, key);
      if (holders === undefined) continue;
      if (holders instanceof Set) {
        for (const subscriber of holders as ReadonlySet<HubSubscriber>) {
          delivered += this.hand(subscriber, event, this.idFor(event, subscriber.topicSet));
        }
      } else {
        const subscriber = holders as HubSubscriber;
        delivered += this.hand(subscriber, event, this.idFor(event, subscriber.topicSet));
      }
    }
    return delivered;
  }

  /** The event's position, then the stream's cursor just after it (processing moved past it). */
  private idFor(event: GatewayEvent, topics: TopicSet): string {
    return formatEventId(event, this.tracker.cursorText(topics.topics));
  }

  private hand(subscriber: HubSubscriber, event: GatewayEvent, id: string): number {
    try {
      subscriber.deliver(event, id);
      return 1;
    } catch (err) {
      this.logger.error(
        `A stream failed to take an event: ${err instanceof Error ? err.message : String(err)}`,
      );
      return 0;
    }
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
    for (const subscriber of this.subscribers.subscribersOf(topic)) subscriber.logChanged(topic, partition);
  }
}
