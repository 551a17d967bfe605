import type { CatchUpListener, CatchUpRequest, HistoryReader } from './catch-up.js';
import type { GatewayEvent } from './gateway-event.js';
import type { LogPosition } from './log-position.js';
import type { PartitionBatch } from './partition-batch.js';
import type { Checkpoint, JournalWriter } from './position-journal.js';

/**
 * Why a stream cannot be brought back to where its client stood: Kafka no longer has the records
 * (`expired`: retention, compaction, deleted records), or they are further back than the gateway
 * reads for one resume (`beyond-horizon`, RESUME_HORIZON_RECORDS).
 */
export type HistoryGap = 'expired' | 'beyond-horizon';

/** Where the events a resuming stream missed come from. */
export type ResumeSource =
  /** All of them are in the replay store. */
  | { readonly kind: 'store'; readonly events: readonly GatewayEvent[] }
  /** Some must be read from Kafka first (see `catchUp`); then ask again. */
  | { readonly kind: 'kafka'; readonly request: CatchUpRequest }
  | { readonly kind: 'gap'; readonly reason: HistoryGap };

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
  /** The partitions of `topic` the instance processes. */
  partitionsOf(topic: string): number[];
  /** The first offset Kafka had for a partition when last looked up. */
  logStartOf(topic: string, partition: number): number | undefined;
  /** Where the events of `userId` (and broadcasts) on `topics` after `from` come from. */
  resume(userId: string, topics: readonly string[], from: LogPosition): ResumeSource;
  /** Reads from Kafka what a resume needs; the returned function cancels it. */
  catchUp(request: CatchUpRequest, listener: CatchUpListener): () => void;
  /** The newest checkpoint of this instance in the positions journal, once Kafka has it. */
  latestCheckpoint(): Checkpoint | undefined;
  /** How many checkpoints this instance has taken so far. */
  checkpointsTaken(): number;
  /** The position a checkpoint of any instance holds (the offset that names it), if known here. */
  checkpoint(offset: number): LogPosition | undefined;
  /** Reads a checkpoint not known here from the positions topic, if Kafka still has it. */
  lookUpCheckpoint(offset: number): Promise<void>;
}

/**
 * What follows the log as it grows: the event bus, which hands each event to its streams as it is
 * appended (its id is the log's position just past it) and tells them when the log changes.
 */
export interface LogFollower {
  /** An event was appended; returns how many streams took it. */
  appended(event: GatewayEvent): number;
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
  sawLogStart(topic: string, partition: number, start: number): void;
  /** The Kafka side's history reader, for catch-ups. */
  readHistoryWith(reader: HistoryReader): void;
  /** A batch the history reader fetched. */
  takeHistory(batch: PartitionBatch<GatewayEvent>): void;
  /** The Kafka side's writer of the positions journal: compact ids from then on. */
  journalWith(writer: JournalWriter): void;
  /** A checkpoint the positions topic holds at `offset`, from any instance. */
  learnCheckpoint(offset: number, text: string): void;
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
