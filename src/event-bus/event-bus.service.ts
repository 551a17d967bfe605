import { Inject, Injectable, Logger } from '@nestjs/common';
import { userKey } from '../log/audience.js';
import type { GatewayEvent } from '../log/gateway-event.js';
import { formatEventId } from '../log/log-position.js';
import { PARTITION_LOG, type LogFollower, type PartitionLog } from '../log/partition-log.js';
import type { HubSubscriber, StreamHub, TopicSet } from './stream-hub.js';
import { SubscriberIndex } from './subscriber-index.js';

/**
 * The event bus: hands each event the partition log appends to the open streams it is for, with
 * its id (its position, then the stream's cursor just past it). Streams register through the
 * StreamHub port; it knows who is subscribed to what, and nothing of history.
 */
@Injectable()
export class EventBusService implements StreamHub, LogFollower {
  private readonly logger = new Logger(EventBusService.name);
  private readonly subscribers = new SubscriberIndex();
  private readonly topicSets = new Map<string, TopicSet>();

  constructor(@Inject(PARTITION_LOG) private readonly log: PartitionLog) {
    log.follow(this);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  topicSet(topics: readonly string[]): TopicSet {
    const key = topics.join(',');
    let set = this.topicSets.get(key);
    if (!set) this.topicSets.set(key, (set = { topics: [...topics], key }));
    return set;
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

  // ---- following the log ---------------------------------------------------------------------

  appended(event: GatewayEvent): number {
    const { audience } = event;
    switch (audience.kind) {
      case 'user':
        return this.handToUser(event, audience.userId);
      case 'users': {
        let delivered = 0;
        for (const userId of audience.userIds) delivered += this.handToUser(event, userId);
        return delivered;
      }
      case 'broadcast': {
        let delivered = 0;
        // One id for each group of streams on the same topics.
        for (const [topics, group] of this.subscribers.groupsOf(event.topic)) {
          const id = this.idFor(event, topics);
          for (const subscriber of group) delivered += this.hand(subscriber, event, id);
        }
        return delivered;
      }
    }
  }

  logChanged(topic: string, partition: number): void {
    for (const subscriber of this.subscribers.subscribersOf(topic)) subscriber.logChanged(topic, partition);
  }

  feedLost(): void {
    for (const subscriber of this.subscribers.all()) subscriber.feedLost();
  }

  private handToUser(event: GatewayEvent, userId: string): number {
    const holders = this.subscribers.holdersOf(event.topic, userKey(userId));
    if (holders === undefined) return 0;
    if (!(holders instanceof Set)) {
      const subscriber = holders as HubSubscriber;
      return this.hand(subscriber, event, this.idFor(event, subscriber.topicSet));
    }
    let delivered = 0;
    for (const subscriber of holders as ReadonlySet<HubSubscriber>) {
      delivered += this.hand(subscriber, event, this.idFor(event, subscriber.topicSet));
    }
    return delivered;
  }

  /** The event's position, then the cursor of the batch it came in (see formatEventId). */
  private idFor(event: GatewayEvent, topics: TopicSet): string {
    return formatEventId(event, this.log.cursorText(topics.topics));
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
}
