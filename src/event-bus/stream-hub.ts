import type { GatewayEvent } from './gateway-event.js';
import type { LogPosition } from './log-position.js';
import type { ReplayResult } from './replay-store.js';

/** The topics of a stream, sorted, without duplicates; one shared object per distinct set. */
export interface TopicSet {
  readonly topics: readonly string[];
  /** The topics joined, e.g. `chat,orders`. */
  readonly key: string;
}

/** One open stream, as the hub sees it. */
export interface HubSubscriber {
  readonly userId: string;
  readonly topicSet: TopicSet;
  /** An event for this stream, with its id for the stream's topics at the instance's position. */
  deliver(event: GatewayEvent, id: string): void;
  /** The log of a partition changed under the instance: the stream's state may be wrong. */
  logChanged(topic: string, partition: number): void;
  /** The instance can no longer follow Kafka: the stream should move to another one. */
  feedLost(): void;
}

/** What the stream side needs of the hub; EventBusService implements it. */
export interface StreamHub {
  /** False while the instance cannot follow Kafka; streams then belong elsewhere. */
  readonly available: boolean;
  topicSet(topics: readonly string[]): TopicSet;
  knows(topic: string, partition: number): boolean;
  nextOffset(topic: string, partition: number): number | undefined;
  /** The latest log end seen for a partition, and when (0: never). */
  logEndOf(topic: string, partition: number): { end: number | undefined; seenAt: number };
  /** Where a stream without a usable id starts. */
  liveStart(topics: TopicSet): LogPosition;
  /** The instance's position on `topics`, as a value of its own. */
  position(topics: TopicSet): LogPosition;
  /** The same as cursor text, kept until a topic moves. */
  cursorText(topics: TopicSet): string;
  /** The buffered events of `userId` (and broadcasts) on `topics` from `from` on. */
  replay(userId: string, topics: TopicSet, from: LogPosition): ReplayResult;
  /** Registers a stream; the returned function removes it and may be called more than once. */
  subscribe(subscriber: HubSubscriber): () => void;
}

export const STREAM_HUB = Symbol('StreamHub');
