import type { Admin, Assignment, Consumer, ConsumerConfig } from 'kafkajs';
import type { Audience } from '../log/gateway-event.js';
import type { OwnerRoute } from './owner-routing.js';

/** Which slots of a resume point concern a stream's user; the others are ignored. */
export type ResumeScope = (topic: string, partition: number) => boolean;

/** Tells, for a user id, whether its streams move away (their partition was lost). */
export type MovedUsers = (userId: string) => boolean;

/**
 * What the streams, the records and the probes ask of partition ownership. In every-instance mode
 * (the default) every instance serves every user; with KAFKA_CONSUMPTION=partition-owner an
 * instance serves the users of the partitions it owns (PartitionOwnershipService).
 */
export interface Ownership {
  /** Whether this instance serves `userId` now. */
  serves(userId: string): boolean;
  /**
   * Where a stream request of `userId` goes, before any stream starts: served here, sent to its
   * owner, or asked to try again. `named`: the `node` the request names; `canServe`: whether this
   * instance takes streams at all now (not draining, following Kafka).
   */
  routeStream(userId: string, named: string | undefined, canServe: boolean): OwnerRoute;
  /** The slots of a resume point that matter for `userId`. */
  resumeScope(userId: string): ResumeScope;
  /** Whether a valid record on this partition reaches nobody, and is skipped as misrouted. */
  misroutes(topic: string, partition: number, audience: Audience): boolean;
  /**
   * The key a record published over HTTP needs so that its users' owner reads it; problems with it
   * are pushed to `problems` (a 400), a partition count not known yet is a 503.
   */
  publishKey(topic: string, audience: Audience, key: unknown, problems: string[]): string | undefined;
  /** Readiness: undefined in every-instance mode; otherwise whether this instance's own part is ready. */
  readiness(): { ready: boolean; details: Record<string, unknown> } | undefined;
  /** Registers what to do with the streams of users whose partition moved to another instance. */
  onMoved(listener: (moved: MovedUsers) => void): void;
}

/**
 * The part of the Kafka consumer's life that depends on the mode: which group it joins, which
 * partitions it reads from the replay window at start and on each join.
 */
export interface ConsumerMembership {
  /** Topics whose every partition is read from the replay window at start-up. */
  readonly windowTopics: readonly string[];
  /** Before the first consumer joins: checks what the mode needs of the topics. */
  prepare(admin: Admin): Promise<void>;
  /** The group and assignor options of every consumer, if the mode has its own. */
  consumerOptions(): Partial<Pick<ConsumerConfig, 'groupId' | 'partitionAssigners' | 'heartbeatInterval'>>;
  /** A consumer joined its group with `assignment` (before the transport seeks kept partitions). */
  joined(consumer: Consumer, assignment: Assignment): void;
  rebalancing(): void;
  /** Processing of a partition reached `next`. */
  reached(topic: string, partition: number, next: number): void;
  /** Whether the records of this partition are this instance's to process now. */
  reads(topic: string, partition: number): boolean;
  /** Whether a partition the log watch finds is started there (keyed ones start when gained). */
  startsOnSight(topic: string): boolean;
  close(): void;
}

export const OWNERSHIP = Symbol('Ownership');
export const CONSUMER_MEMBERSHIP = Symbol('ConsumerMembership');

const SERVE: OwnerRoute = { kind: 'serve' };
const EVERY_SLOT: ResumeScope = () => true;

/** Every-instance mode: every instance reads everything and serves everyone. */
export class EveryInstance implements Ownership, ConsumerMembership {
  constructor(readonly windowTopics: readonly string[]) {}

  serves(): boolean {
    return true;
  }

  routeStream(): OwnerRoute {
    return SERVE;
  }

  resumeScope(): ResumeScope {
    return EVERY_SLOT;
  }

  misroutes(): boolean {
    return false;
  }

  publishKey(): undefined {
    return undefined;
  }

  readiness(): undefined {
    return undefined;
  }

  onMoved(): void {}

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  consumerOptions(): Record<string, never> {
    return {};
  }

  joined(): void {}

  rebalancing(): void {}

  reached(): void {}

  reads(): boolean {
    return true;
  }

  startsOnSight(): boolean {
    return true;
  }

  close(): void {}
}
