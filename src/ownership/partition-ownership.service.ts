import { GatewayError } from '../common/gateway-error.js';
import type { OwnershipConfig } from '../config/gateway.config.js';
import type { Audience } from '../log/gateway-event.js';
import { routeStream, type OwnerRoute } from './owner-routing.js';
import type { MovedUsers, Ownership, ResumeScope } from './ownership.js';
import type { OwnershipMetrics } from './ownership.metrics.js';
import { UserPartitioner } from './user-partition.js';

/**
 * Who owns which partition of the keyed topics (partition-owner mode, docs/scaling.md). The keyed
 * topics are co-partitioned: partition index p of every keyed topic belongs to the same instance,
 * so a user, keyed by murmur2 to one index, belongs to one instance for all of them. The owner
 * group (OwnerGroup) tells it what this instance was assigned, when each partition is warm and the
 * map of the whole group; the streams, the records and the probes ask it through `Ownership`.
 */
export class PartitionOwnershipService implements Ownership {
  private readonly keyed: ReadonlySet<string>;
  private partitioner: UserPartitioner | undefined;
  /** Partition indexes assigned to this instance in the group's current generation. */
  private readonly assigned = new Set<number>();
  /** Assigned partitions read from the start of the replay window up to the log end of then. */
  private readonly warm = new Set<number>();
  /** Node name per partition index, as the whole group sees it; undefined while it is rebuilt. */
  private owners: ReadonlyArray<string | undefined> | undefined;
  private mapProblem: string | undefined;
  private readonly movedListeners: Array<(moved: MovedUsers) => void> = [];

  constructor(
    private readonly settings: OwnershipConfig,
    private readonly metrics: OwnershipMetrics,
  ) {
    this.keyed = new Set(settings.keyedTopics);
  }

  /** This instance's node name. */
  get node(): string {
    return this.settings.node;
  }

  isKeyed(topic: string): boolean {
    return this.keyed.has(topic);
  }

  // ---- the Kafka side ------------------------------------------------------------------------

  /**
   * The partition count shared by the keyed topics, known before the consumer joins and again at
   * every join. When partitions were added, users are keyed to other partitions: the streams of
   * those whose partition changed end with their resume point and reconnect to the new owner.
   */
  setPartitionCount(count: number): void {
    const before = this.partitioner;
    if (before?.partitionCount === count) return;
    const after = new UserPartitioner(count);
    this.partitioner = after;
    if (!before) return;
    const moved: MovedUsers = (userId) => before.partitionOf(userId) !== after.partitionOf(userId);
    for (const listener of this.movedListeners) listener(moved);
  }

  get partitionCount(): number | undefined {
    return this.partitioner?.partitionCount;
  }

  /**
   * The partitions this instance owns from now on. The streams of users on partitions it lost are
   * ended first (their last checkpoint still carries the position of those partitions), then
   * their state is forgotten. Returns the lost partitions, for the caller to drop their buffers.
   */
  assign(partitions: ReadonlySet<number>): number[] {
    const lost = [...this.assigned].filter((partition) => !partitions.has(partition));
    if (lost.length > 0) {
      const gone = new Set(lost);
      const moved: MovedUsers = (userId) => gone.has(this.partitionOf(userId) ?? -1);
      for (const listener of this.movedListeners) listener(moved);
    }
    for (const partition of lost) {
      this.assigned.delete(partition);
      this.warm.delete(partition);
    }
    for (const partition of partitions) this.assigned.add(partition);
    this.metrics.ownedPartitions(this.assigned.size);
    return lost;
  }

  /** An assigned partition has been read up to where its log ended when it was gained. */
  warmed(partition: number): void {
    if (!this.assigned.has(partition) || this.warm.has(partition)) return;
    this.warm.add(partition);
    this.metrics.warmedUp();
  }

  isWarm(partition: number): boolean {
    return this.warm.has(partition);
  }

  /** The group's map (node per partition index), or undefined while it is rebuilt, with why. */
  setOwners(owners: ReadonlyArray<string | undefined> | undefined, problem?: string): void {
    this.owners = owners;
    this.mapProblem = problem;
  }

  /** Registers what to do with the streams of users whose partition this instance lost. */
  onMoved(listener: (moved: MovedUsers) => void): void {
    this.movedListeners.push(listener);
  }

  // ---- the stream side -----------------------------------------------------------------------

  partitionOf(userId: string): number | undefined {
    return this.partitioner?.partitionOf(userId);
  }

  /** Whether this instance owns the user's partition and holds its whole window. */
  serves(userId: string): boolean {
    const partition = this.partitionOf(userId);
    return partition !== undefined && this.warm.has(partition);
  }

  /** The node the group's map names for the user's partition, if the map is known. */
  ownerOf(userId: string): string | undefined {
    const partition = this.partitionOf(userId);
    return partition === undefined ? undefined : this.owners?.[partition];
  }

  routeStream(userId: string, named: string | undefined, canServe: boolean): OwnerRoute {
    const route = routeStream({
      servesHere: canServe && this.serves(userId),
      owner: this.ownerOf(userId),
      self: this.node,
      named,
    });
    if (route.kind !== 'serve')
      this.metrics.redirected(route.kind === 'redirect' ? 'not-owner' : 'soft-retry');
    return route;
  }

  /**
   * The slots of a resume point that matter for a user: its own partition of each keyed topic and
   * every partition of the others. An id carries whatever its instance owned besides; those
   * slots say nothing about this user, and another owner need not know them.
   */
  resumeScope(userId: string): ResumeScope {
    const own = this.partitionOf(userId);
    return (topic, partition) => !this.keyed.has(topic) || partition === own;
  }

  // ---- records -------------------------------------------------------------------------------

  /**
   * Whether a record on a keyed topic reaches nobody: its users are keyed to another partition,
   * whose owner never reads it, or it is a broadcast, which only one owner would see.
   */
  misroutes(topic: string, partition: number, audience: Audience): boolean {
    // While the group's map is rebuilt (a rebalance, partitions added) records are not judged.
    if (!this.keyed.has(topic) || this.partitioner === undefined || this.owners === undefined) return false;
    switch (audience.kind) {
      case 'broadcast':
        return true;
      case 'user':
        return this.partitioner.partitionOf(audience.userId) !== partition;
      case 'users':
        return audience.userIds.some((userId) => this.partitioner!.partitionOf(userId) !== partition);
    }
  }

  /**
   * A record on a keyed topic reaches only the owner of its partition, so one published over HTTP
   * must sit on its users' partition, or the consumer skips it as misrouted after the publisher
   * was told it was written. Such a record is refused, naming what to do instead. Returns the key
   * that puts a `userIds` record on its users' partition.
   */
  publishKey(topic: string, audience: Audience, key: unknown, problems: string[]): string | undefined {
    if (!this.keyed.has(topic)) return undefined;
    if (audience.kind === 'broadcast') {
      problems.push(
        `a broadcast on ${topic} would reach only one instance's users in partition-owner mode: ` +
          'publish it to a topic of KAFKA_BROADCAST_TOPICS',
      );
      return undefined;
    }
    const partitioner = this.partitioner;
    if (partitioner === undefined) {
      throw new GatewayError(
        'kafka-unavailable',
        `The partitions of ${topic} are not known yet; try again`,
        1,
      );
    }
    const users = audience.kind === 'user' ? [audience.userId] : audience.userIds;
    const partitions = new Set(users.map((userId) => partitioner.partitionOf(userId)));
    if (partitions.size > 1) {
      problems.push(
        `in partition-owner mode the users of one event must share a partition of ${topic} ` +
          `(these are on ${partitions.size}): send one event per user, or use a broadcast topic`,
      );
    } else if (typeof key === 'string' && !partitions.has(partitioner.partitionOf(key))) {
      problems.push("in partition-owner mode key must be left out, or put the event on its users' partition");
    }
    return users[0];
  }

  // ---- health --------------------------------------------------------------------------------

  /**
   * This instance's own part only: its partitions are warm. What the group is doing (a rebalance,
   * a map being read) is every instance's at once; routing answers it with soft retries, while a
   * balancer that followed readiness would be left with no backend at all.
   */
  readiness(): { ready: boolean; details: Record<string, unknown> } {
    const warming = this.warmingPartitions();
    const map = this.owners === undefined ? { map: this.mapProblem ?? 'not known yet' } : {};
    return warming.length === 0
      ? { ready: true, details: { node: this.node, partitions: this.owned(), ...map } }
      : {
          ready: false,
          details: { node: this.node, reasons: [`warming partition(s) ${warming.join(', ')}`], ...map },
        };
  }

  /** What keeps this instance from serving its users; empty when nothing does. */
  problems(): string[] {
    const problems: string[] = [];
    if (this.owners === undefined) {
      problems.push(this.mapProblem ?? 'the partition map of the owner group is not known yet');
    }
    const warming = this.warmingPartitions();
    if (warming.length > 0) problems.push(`warming partition(s) ${warming.join(', ')}`);
    return problems;
  }

  private warmingPartitions(): number[] {
    return [...this.assigned].filter((partition) => !this.warm.has(partition)).sort((a, b) => a - b);
  }

  /** The partition indexes this instance owns, in order. */
  owned(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }
}
