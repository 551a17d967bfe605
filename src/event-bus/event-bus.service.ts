import { Injectable, Logger } from '@nestjs/common';
import { ConsumerPositions } from './consumer-positions.js';
import { formatEventId } from './event-id.js';
import type { GatewayEvent, RecordPosition } from './gateway-event.js';

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

/**
 * Routes consumed events to open streams. Subscribers are indexed by topic and user, so an event
 * costs time in proportion to its recipients; only a broadcast visits every subscriber of a topic.
 */
@Injectable()
export class EventBusService {
  private readonly logger = new Logger(EventBusService.name);
  private readonly positions = new ConsumerPositions();
  private readonly topics = new Map<string, TopicSubscribers>();
  private subscribers = 0;

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
    const entry = this.topics.get(event.topic);
    if (!entry) return 0;
    const ids = new Map<string, string>();
    const idFor = (subscriber: Subscriber): string => {
      const key = subscriber.topics.join(',');
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = formatEventId(event, this.positions.cursorText(subscriber.topics))));
      return id;
    };
    let delivered = 0;
    for (const subscriber of this.recipients(entry, event)) {
      try {
        subscriber.deliver(event, idFor(subscriber));
        delivered++;
      } catch (err) {
        this.logger.error(`A stream failed to take an event: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return delivered;
  }

  /** Moves past a record that carries no event (an invalid one), so resume points move on too. */
  skip(position: RecordPosition): void {
    this.positions.advance(position);
  }

  /** Sets where consumption of a partition starts; see ConsumerPositions.startAt. */
  startAt(topic: string, partition: number, offset: bigint): void {
    this.positions.startAt(topic, partition, offset);
  }

  nextOffset(topic: string, partition: number): bigint | undefined {
    return this.positions.nextOffset(topic, partition);
  }

  /** The resume point of a stream on `topics` right now. */
  checkpoint(topics: readonly string[]): string {
    return this.positions.cursorText(topics);
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
