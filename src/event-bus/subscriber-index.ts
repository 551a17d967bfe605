import { userKey } from '../log/audience.js';
import type { HubSubscriber, TopicSet } from './stream-hub.js';

/** A user's subscribers of one topic: usually one, so it is kept as is until there are more. */
type Holders = HubSubscriber | Set<HubSubscriber>;

interface TopicSubscribers {
  /** Every subscriber of the topic, by topic set: a broadcast's id is the same for a whole group. */
  readonly byTopicSet: Map<TopicSet, Set<HubSubscriber>>;
  readonly byKey: Map<string, Holders>;
  count: number;
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
      if (!entry) this.topics.set(topic, (entry = { byTopicSet: new Map(), byKey: new Map(), count: 0 }));
      let group = entry.byTopicSet.get(subscriber.topicSet);
      if (!group) entry.byTopicSet.set(subscriber.topicSet, (group = new Set()));
      group.add(subscriber);
      entry.count++;
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
      const group = entry?.byTopicSet.get(subscriber.topicSet);
      if (!entry || !group?.delete(subscriber)) continue;
      if (group.size === 0) entry.byTopicSet.delete(subscriber.topicSet);
      const holders = entry.byKey.get(key);
      if (holders === subscriber) entry.byKey.delete(key);
      else if (holders instanceof Set) {
        holders.delete(subscriber);
        if (holders.size === 1) entry.byKey.set(key, holders.values().next().value!);
      }
      if (--entry.count === 0) this.topics.delete(topic);
    }
    this.count--;
  }

  /** The subscribers of `topic` filed under a user's key: none, one, or a set of them. */
  holdersOf(topic: string, key: string): HubSubscriber | ReadonlySet<HubSubscriber> | undefined {
    return this.topics.get(topic)?.byKey.get(key);
  }

  /** Every subscriber of `topic`, group by group of the same topic set: what a broadcast reaches. */
  groupsOf(topic: string): Iterable<[TopicSet, ReadonlySet<HubSubscriber>]> {
    return this.topics.get(topic)?.byTopicSet ?? NONE;
  }

  all(): Iterable<HubSubscriber> {
    const seen = new Set<HubSubscriber>();
    for (const entry of this.topics.values()) {
      for (const group of entry.byTopicSet.values()) for (const subscriber of group) seen.add(subscriber);
    }
    return seen;
  }

  /** Every subscriber of `topic`. */
  *subscribersOf(topic: string): Iterable<HubSubscriber> {
    for (const [, group] of this.groupsOf(topic)) yield* group;
  }
}

const NONE: ReadonlyMap<TopicSet, ReadonlySet<HubSubscriber>> = new Map();
