import type { GatewayEvent } from './gateway-event.js';
import type { LogPosition } from './log-position.js';
import type { PartitionBatch } from './partition-batch.js';
import type { ReplayResult } from './replay-store.js';

/** What the streams read of the log: positions, ids and history. */
export interface LogReader {
  /** False while the instance cannot follow Kafka; streams then belong elsewhere. */
  readonly available: boolean;
  knows(topic: string, partition: number): boolean;
  nextOffset(topic: string, partition: number): number | undefined;
  /** The latest log end seen for a partition, and when (0: never). */
  logEndOf(topic: string, partition: number): { end: number | undefined; seenAt: number };
  /** Where a stream without a usable id starts. */
  liveStart(topics: readonly string[]): LogPosition;
  /** The instance's position on `topics`, as a value of its own. */
  position(topics: readonly string[]): LogPosition;
  /** The same as cursor text, kept until a topic moves. */
  cursorText(topics: readonly string[]): string;
  /** The buffered events of `userId` (and broadcasts) on `topics` from `from` on. */
  replay(userId: string, topics: readonly string[], from: LogPosition): ReplayResult;
}

/**
 * What follows the log as it grows: the event bus, which hands each event to its streams as it is
 * appended (its id is the log's position just past it) and tells them when the log changes.
 */
export interface LogFollower {
  /** An event was appended, filed under its audience `keys`; returns how many streams took it. */
  appended(event: GatewayEvent, keys: readonly string[]): number;
  /** The log of a partition changed under the instance: history there means nothing any more. */
  logChanged(topic: string, partition: number): void;
  /** The instance can no longer follow Kafka. */
  feedLost(): void;
}

/** The partition log as the Kafka side and partition ownership write it. */
export interface PartitionLog extends LogReader {
  /**
   * Where processing of a partition starts (history is complete from there on) and, optionally,
   * where its log ended at start-up: what is before that is history, not live.
   */
  startPartition(topic: string, partition: number, offset: number, logEndAtStart?: number): void;
  /** Appends a batch's events, in one pass; returns how many streams took one. */
  append(batch: PartitionBatch<GatewayEvent>, now?: number): number;
  /** Moves past records that reached no handler (a batch of only transaction markers). */
  advanceTo(topic: string, partition: number, next: number): void;
  sawLogEnd(topic: string, partition: number, end: number, now?: number): void;
  /** Where a partition's log ended at start-up; records before it are history. */
  liveFromOf(topic: string, partition: number): number | undefined;
  /** Forgets partitions another instance owns now: their positions and history. */
  dropPartitions(topic: string, partitions: ReadonlySet<number>): void;
  /** The consumer cannot follow Kafka: followers are told, and `available` is false until restored. */
  feedLost(reason: string): void;
  feedRestored(): void;
  /** Registers the one follower of the log. */
  follow(follower: LogFollower): void;
}

export const PARTITION_LOG = Symbol('PartitionLog');
