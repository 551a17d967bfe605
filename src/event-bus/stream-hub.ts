import type { GatewayEvent } from '../log/gateway-event.js';

/** The topics of a stream, sorted, without duplicates; one shared object per distinct set. */
export interface TopicSet {
  readonly topics: readonly string[];
  /** The topics joined, e.g. `chat,orders`. */
  readonly key: string;
}

/** One open stream, as the event bus sees it. */
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

/** What the streams need of the event bus; EventBusService implements it. */
export interface StreamHub {
  topicSet(topics: readonly string[]): TopicSet;
  /** Registers a stream; the returned function removes it and may be called more than once. */
  subscribe(subscriber: HubSubscriber): () => void;
}

export const STREAM_HUB = Symbol('StreamHub');
