import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig, type OwnershipConfig } from '../config/gateway.config.js';
import { OwnershipMetrics } from '../metrics/ownership.metrics.js';
import type { Audience } from './gateway-event.js';
import { UserPartitioner } from './user-partition.js';

/** Tells, for a user id, whether its streams move away (their partition was lost). */
export type MovedUsers = (userId: string) => boolean;

/**
 * Who owns which partition of the keyed topics (partition-owner mode, docs/scaling.md). The keyed
 * topics are co-partitioned: partition index p of every keyed topic belongs to the same instance,
 * so a user, keyed by murmur2 to one index, belongs to one instance for all of them. The Kafka
 * side tells it what this instance was assigned, when each partition is warm and the map of the
 * whole group; the stream side asks whether a user is served here, and who else owns it.
 *
 * Disabled (`enabled` false) in every-instance mode, where nothing calls it but these checks.
 */
@Injectable()
export class OwnershipService {
  private readonly settings: OwnershipConfig | undefined;
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
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly metrics: OwnershipMetrics,
  ) {
    this.settings = config.ownership;
    this.keyed = new Set(config.ownership?.keyedTopics ?? []);
  }

  get enabled(): boolean {
    return this.settings !== undefined;
  }

  /** This instance's node name; empty in every-instance mode. */
  get node(): string {
    return this.settings?.node ?? '';
  }

  isKeyed(topic: string): boolean {
    return this.keyed.has(topic);
  }

  // ---- the Kafka side ------------------------------------------------------------------------

  /** The partition count shared by the keyed topics, known before the consumer joins. */
  setPartitionCount(count: number): void {
    this.partitioner = new UserPartitioner(count);
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

  /**
   * The slots of a resume point that matter for a user: its own partition of each keyed topic and
   * every partition of the others. An id carries whatever its instance owned besides; those
   * slots say nothing about this user, and another owner need not know them.
   */
  resumeScope(userId: string): (topic: string, partition: number) => boolean {
    const own = this.partitionOf(userId);
    return (topic, partition) => !this.keyed.has(topic) || partition === own;
  }

  // ---- records -------------------------------------------------------------------------------

  /**
   * Whether a record on a keyed topic reaches nobody: its users are keyed to another partition,
   * whose owner never reads it, or it is a broadcast, which only one owner would see.
   */
  misroutes(topic: string, partition: number, audience: Audience): boolean {
    if (!this.keyed.has(topic) || this.partitioner === undefined) return false;
    switch (audience.kind) {
      case 'broadcast':
        return true;
      case 'user':
        return this.partitioner.partitionOf(audience.userId) !== partition;
      case 'users':
        return audience.userIds.some((userId) => this.partitioner!.partitionOf(userId) !== partition);
    }
  }

  // ---- health --------------------------------------------------------------------------------

  /** What keeps this instance from serving its users; empty when nothing does. */
  problems(): string[] {
    if (!this.enabled) return [];
    const problems: string[] = [];
    if (this.owners === undefined) {
      problems.push(this.mapProblem ?? 'the partition map of the owner group is not known yet');
    }
    const warming = [...this.assigned].filter((partition) => !this.warm.has(partition));
    if (warming.length > 0) {
      problems.push(`warming partition(s) ${warming.sort((a, b) => a - b).join(', ')}`);
    }
    return problems;
  }

  /** The partition indexes this instance owns, in order. */
  owned(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }
}
