import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { ConsumerPositions } from './consumer-positions.js';
import { formatEventId, type MutableCursor, type StreamCursor } from './event-id.js';
import type { GatewayEvent, RecordPosition } from './gateway-event.js';
import { ReplayBuffer, type ReplayResult } from './replay-buffer.js';

/** One open stream, as the bus sees it. */
export interface Subscriber {
  readonly userId: string;
  /** Sorted, without duplicates. */
  readonly topics: readonly string[];
  deliver(event: GatewayEvent, id: string): void;
}

interface TopicSubscribers {
  readonly all: Set<Subscriber>;
  readonly byUser: Map<string, Set<Subscriber>>;
}

const EVICTION_INTERVAL_MS = 1000;

/**
 * Routes consumed events to open streams and keeps the recent ones for resumes. Subscribers are
 * indexed by topic and user, so an event costs time in proportion to its recipients; only a
 * broadcast visits every subscriber of a topic.
 */
@Injectable()
export class EventBusService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EventBusService.name);
  private readonly positions = new ConsumerPositions();
  private readonly buffer: ReplayBuffer;
  private readonly topics = new Map<string, TopicSubscribers>();
  private readonly logEndAtStart: MutableCursor = new Map();
  private subscribers = 0;
  private evictionTimer: NodeJS.Timeout | undefined;

  constructor(@Inject(gatewayConfig.KEY) config: GatewayConfig) {
    this.buffer = new ReplayBuffer(config.replay);
  }

  onModuleInit(): void {
    this.evictionTimer = setInterval(() => this.buffer.evict(), EVICTION_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.evictionTimer);
  }

  get bufferedEvents(): number {
    return this.buffer.size;
  }

  get subscriberCount(): number {
    return this.subscribers;
  }

  /** Registers a stream; the returned function removes it and may be called more than once. */
  subscribe(subscriber: Subscriber): () => void {
    for (const topic of subscriber.topics) {
      const entry = this.entryFor(topic);
      entry.all.add(subscriber);
      let users = entry.byUser.get(subscriber.userId);
      if (!users) entry.byUser.set(subscriber.userId, (users = new Set()));
      users.add(subscriber);
    }
    this.subscribers++;
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.subscribers--;
      for (const topic of subscriber.topics) this.remove(topic, subscriber);
    };
  }

  /**
   * Hands a consumed event to its recipients. Returns how many streams got it; a record that was
   * processed before (Kafka redelivers after a rebalance) reaches nobody twice.
   */
  publish(event: GatewayEvent): number {
    if (!this.positions.advance(event)) return 0;
    this.buffer.append(event);
    const entry = this.topics.get(event.topic);
    if (!entry) return 0;
    const ids = new Map<string, string>();
    const idFor = (subscriber: Subscriber): string => {
      const key = subscriber.topics.join(',');
      let id = ids.get(key);
      if (id === undefined)
        ids.set(key, (id = formatEventId(event, this.positions.cursorText(subscriber.topics))));
      return id;
    };
    let delivered = 0;
    for (const subscriber of this.recipients(entry, event)) {
      try {
        subscriber.deliver(event, idFor(subscriber));
        delivered++;
      } catch (err) {
        this.logger.error(
          `A stream failed to take an event: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    return delivered;
  }

  /** Moves past a record that carries no event (an invalid one), so resume points move on too. */
  skip(position: RecordPosition): void {
    this.positions.advance(position);
  }

  /**
   * Sets where consumption of a partition starts (the buffer holds everything from there on) and,
   * optionally, where its log ended at start-up: what is before that is history, not live.
   */
  startAt(topic: string, partition: number, offset: bigint, logEnd?: bigint): void {
    this.positions.startAt(topic, partition, offset);
    this.buffer.completeFromOffset(topic, partition, offset);
    if (logEnd !== undefined) {
      let ends = this.logEndAtStart.get(topic);
      if (!ends) this.logEndAtStart.set(topic, (ends = new Map<number, bigint>()));
      ends.set(partition, logEnd);
    }
  }

  nextOffset(topic: string, partition: number): bigint | undefined {
    return this.positions.nextOffset(topic, partition);
  }

  /** The resume point of a stream on `topics` right now. */
  checkpoint(topics: readonly string[]): string {
    return this.positions.cursorText(topics);
  }

  /** The same resume point, as a cursor of its own. */
  positionsOf(topics: readonly string[]): MutableCursor {
    return this.positions.snapshot(topics);
  }

  /**
   * Where a stream without a usable id starts: the current positions, except while the instance
   * is still reading the window's history after start-up; then at the log end as it was then, so
   * history is not sent as if it were live.
   */
  liveStart(topics: readonly string[]): MutableCursor {
    const cursor = this.positions.snapshot(topics);
    for (const [topic, offsets] of cursor) {
      for (const [partition, end] of this.logEndAtStart.get(topic) ?? []) {
        if (end > (offsets.get(partition) ?? -1n)) offsets.set(partition, end);
      }
    }
    return cursor;
  }

  /** The buffered events of `userId` on `topics` from `from` on; see ReplayBuffer.replay. */
  replay(userId: string, topics: ReadonlySet<string>, from: StreamCursor): ReplayResult {
    return this.buffer.replay(userId, topics, from);
  }

  private *recipients(entry: TopicSubscribers, event: GatewayEvent): Iterable<Subscriber> {
    const { audience } = event;
    switch (audience.kind) {
      case 'broadcast':
        yield* entry.all;
        return;
      case 'user':
        yield* entry.byUser.get(audience.userId) ?? [];
        return;
      case 'users':
        for (const userId of audience.userIds) yield* entry.byUser.get(userId) ?? [];
        return;
    }
  }

  private entryFor(topic: string): TopicSubscribers {
    let entry = this.topics.get(topic);
    if (!entry) this.topics.set(topic, (entry = { all: new Set(), byUser: new Map() }));
    return entry;
  }

  private remove(topic: string, subscriber: Subscriber): void {
    const entry = this.topics.get(topic);
    if (!entry) return;
    entry.all.delete(subscriber);
    const users = entry.byUser.get(subscriber.userId);
    users?.delete(subscriber);
    if (users?.size === 0) entry.byUser.delete(subscriber.userId);
    if (entry.all.size === 0) this.topics.delete(topic);
  }
}
