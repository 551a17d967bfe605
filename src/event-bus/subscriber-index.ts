import { userKey } from './audience.js';
import type { HubSubscriber } from './stream-hub.js';

const NONE: ReadonlySet<HubSubscriber> = new Set();

/** A user's subscribers of one topic: usually one, so it is kept as is until there are more. */
type Holders = HubSubscriber | Set<HubSubscriber>;

interface TopicSubscribers {
  readonly all: Set<HubSubscriber>;
  readonly byKey: Map<string, Holders>;
}

/**
 * Open streams by topic and audience key, so an event costs time in proportion to its
 * recipients; only a broadcast visits every subscriber of a topic.
 */
export class SubscriberIndex {
  private readonly topics = new Map<string, TopicSubscribers>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(subscriber: HubSubscriber): void {
    const key = userKey(subscriber.userId);
    for (const topic of subscriber.topicSet.topics) {
      let entry = this.topics.get(topic);
      if (!entry) this.topics.set(topic, (entry = { all: new Set(), byKey: new Map() }));
      entry.all.add(subscriber);
      const holders = entry.byKey.get(key);
      if (holders === undefined) entry.byKey.set(key, subscriber);
      else if (holders instanceof Set) holders.add(subscriber);
      else entry.byKey.set(key, new Set([holders, subscriber]));
    }
    this.count++;
  }

  remove(subscriber: HubSubscriber): void {
    const key = userKey(subscriber.userId);
    for (const topic of subscriber.topicSet.topics) {
      const entry = this.topics.get(topic);
      if (!entry?.all.delete(subscriber)) continue;
      const holders = entry.byKey.get(key);
      if (holders === subscriber) entry.byKey.delete(key);
      else if (holders instanceof Set) {
        holders.delete(subscriber);
        if (holders.size === 1) entry.byKey.set(key, holders.values().next().value!);
      }
      if (entry.all.size === 0) this.topics.delete(topic);
    }
    this.count--;
  }

  /** The subscribers of `topic` filed under a user's key: none, one, or a set of them. */
  holdersOf(topic: string, key: string): HubSubscriber | ReadonlySet<HubSubscriber> | undefined {
    return this.topics.get(topic)?.byKey.get(key);
  }

  /** Every subscriber of `topic`: what a broadcast reaches. */
  subscribersOf(topic: string): ReadonlySet<HubSubscriber> {
    return this.topics.get(topic)?.all ?? NONE;
  }

  all(): Iterable<HubSubscriber> {
    const seen = new Set<HubSubscriber>();
    for (const entry of this.topics.values()) for (const subscriber of entry.all) seen.add(subscriber);
    return seen;
  }
}
