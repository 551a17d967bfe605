import { Logger } from '@nestjs/common';
import type { Admin, Assignment, Consumer, ConsumerConfig } from 'kafkajs';
import type { OwnershipConfig } from '../config/gateway.config.js';
import type { PartitionLog } from '../log/partition-log.js';
import { ownerAssigner, ownersFromGroup } from './owner-assignor.js';
import type { ConsumerMembership } from './ownership.js';
import type { PartitionOwnershipService } from './partition-ownership.service.js';

/** Heartbeats this often, so that a rebalance reaches every member within about a second. */
const OWNER_HEARTBEAT_MS = 1000;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

export interface OwnerGroupOptions {
  readonly settings: OwnershipConfig;
  readonly windowMs: number;
  readonly log: PartitionLog;
  readonly ownership: PartitionOwnershipService;
}

/**
 * This instance's membership in the owner group (partition-owner mode, docs/scaling.md): the
 * consumer options that put it there, and what each join changes. On every join it ends the
 * streams of the partitions it lost and forgets them, reads each partition it gained from the
 * start of the replay window before that partition serves anyone (held paused until then), and
 * reads the group's map back from the coordinator. Partitions it kept go on where processing
 * stands, as in every-instance mode.
 */
export class OwnerGroup implements ConsumerMembership {
  private readonly logger = new Logger('OwnerGroup');
  /** Bumped by every join: work started for an older assignment is dropped. */
  private epoch = 0;
  private closed = false;
  /** The keyed partition indexes of the current assignment. */
  private current: ReadonlySet<number> = new Set();
  /** Gained partitions not read up to their log end at assignment yet: index → topic → end. */
  private readonly warming = new Map<number, Map<string, number>>();
  private admin: Admin | undefined;
  /** The keyed topics' partition count this member reported when it last joined. */
  private counted: number | undefined;

  constructor(private readonly options: OwnerGroupOptions) {}

  /**
   * Topics every instance reads whole, from the start of the window, as in every-instance mode; a
   * keyed partition is read from the window once it is gained.
   */
  get windowTopics(): readonly string[] {
    return this.options.settings.broadcastTopics;
  }

  /** The log watch starts new partitions of broadcast topics; keyed ones start when gained. */
  startsOnSight(topic: string): boolean {
    return !this.options.settings.keyedTopics.includes(topic);
  }

  /**
   * Checks, before the consumer joins, that the keyed topics share one partition count: a user
   * then maps to one partition index, and one owner, for all of them.
   */
  async prepare(admin: Admin): Promise<void> {
    this.admin = admin;
    const { settings, ownership } = this.options;
    const { topics } = await admin.fetchTopicMetadata({ topics: [...settings.keyedTopics] });
    const counts = topics.map((topic) => `${topic.name} has ${topic.partitions.length}`);
    const distinct = new Set(topics.map((topic) => topic.partitions.length));
    if (distinct.size !== 1) {
      throw new Error(
        `KAFKA_TOPICS: with KAFKA_CONSUMPTION=partition-owner the keyed topics must have the same number of partitions (${counts.join(', ')})`,
      );
    }
    ownership.setPartitionCount(topics[0]!.partitions.length);
  }

  consumerOptions(): Pick<ConsumerConfig, 'groupId' | 'partitionAssigners' | 'heartbeatInterval'> {
    const { settings, ownership } = this.options;
    return {
      groupId: settings.group,
      heartbeatInterval: OWNER_HEARTBEAT_MS,
      partitionAssigners: [
        ownerAssigner({
          node: settings.node,
          keyedTopics: settings.keyedTopics,
          broadcastTopics: settings.broadcastTopics,
          owned: () => ownership.owned(),
          counted: (partitions) => (this.counted = partitions),
        }),
      ],
    };
  }

  /** Whether a record of this partition is this instance's to process now. */
  reads(topic: string, partition: number): boolean {
    return (
      !this.options.ownership.isKeyed(topic) ||
      (this.current.has(partition) && this.options.log.knows(topic, partition))
    );
  }

  /** A new generation: `assignment` is this instance's, as kafkajs announces it on GROUP_JOIN. */
  joined(consumer: Consumer, assignment: Assignment): void {
    const epoch = ++this.epoch;
    const { settings, ownership, log } = this.options;
    const partitions = new Set<number>();
    for (const topic of settings.keyedTopics)
      for (const partition of assignment[topic] ?? []) partitions.add(partition);
    this.current = partitions;
    ownership.setOwners(undefined, 'the partition map of the owner group is being read after a rebalance');
    // Partitions added at run time: users are keyed by the count every member reported.
    if (this.counted) ownership.setPartitionCount(this.counted);
    const lost = ownership.assign(partitions);
    if (lost.length > 0) {
      const gone = new Set(lost);
      for (const topic of settings.keyedTopics) log.dropPartitions(topic, gone);
      for (const partition of lost) this.warming.delete(partition);
      this.logger.log(`Partition(s) ${lost.join(', ')} moved to another instance; their streams were ended`);
    }
    const cold = [...partitions].filter((partition) =>
      settings.keyedTopics.some((topic) => !log.knows(topic, partition)),
    );
    if (cold.length > 0) {
      // Nothing is fetched from them until they are moved to where the replay window starts.
      consumer.pause(settings.keyedTopics.map((topic) => ({ topic, partitions: cold })));
      void this.warmUp(consumer, epoch, cold);
    }
    void this.readMap(consumer, epoch, partitions);
  }

  /** The group is rebalancing: the map will change, so nobody is redirected on the old one. */
  rebalancing(): void {
    this.options.ownership.setOwners(undefined, 'the owner group is rebalancing');
  }

  /** Processing of a partition reached `next`: a gained partition is warm once at its end of then. */
  reached(topic: string, partition: number, next: number): void {
    const ends = this.warming.get(partition);
    if (!ends) return;
    const end = ends.get(topic);
    if (end !== undefined && next >= end) ends.delete(topic);
    if (ends.size > 0) return;
    this.warming.delete(partition);
    this.options.ownership.warmed(partition);
  }

  close(): void {
    this.closed = true;
    this.epoch++;
  }

  private isCurrent(epoch: number): boolean {
    return epoch === this.epoch && !this.closed;
  }

  /** Moves gained partitions to where the replay window starts, then lets the consumer read them. */
  private async warmUp(consumer: Consumer, epoch: number, partitions: readonly number[]): Promise<void> {
    const { log, ownership, settings, windowMs } = this.options;
    const admin = this.admin!;
    for (let delay = FIRST_RETRY_MS; this.isCurrent(epoch); delay = Math.min(2 * delay, MAX_RETRY_MS)) {
      try {
        const since = Date.now() - windowMs;
        const ranges = await Promise.all(
          settings.keyedTopics.map(async (topic) => {
            const [starts, ends] = await Promise.all([
              admin.fetchTopicOffsetsByTimestamp(topic, since),
              admin.fetchTopicOffsets(topic),
            ]);
            return { topic, starts, ends };
          }),
        );
        // A newer join decides what to do with these partitions.
        if (!this.isCurrent(epoch)) return;
        for (const partition of partitions) {
          const behind = new Map<string, number>();
          for (const { topic, starts, ends } of ranges) {
            const start = Number(starts.find((entry) => entry.partition === partition)?.offset ?? 0);
            const end = Number(ends.find((entry) => entry.partition === partition)?.high ?? start);
            log.startPartition(topic, partition, start, end);
            consumer.seek({ topic, partition, offset: String(start) });
            if (start < end) behind.set(topic, end);
          }
          if (behind.size > 0) this.warming.set(partition, behind);
          else ownership.warmed(partition);
        }
        consumer.resume(settings.keyedTopics.map((topic) => ({ topic, partitions: [...partitions] })));
        this.logger.log(
          `Gained partition(s) ${partitions.join(', ')}: reading them from the replay window's start`,
        );
        return;
      } catch (err) {
        if (!this.isCurrent(epoch)) return;
        this.logger.warn(`Could not look up the replay window of gained partitions yet: ${describe(err)}`);
        await sleep(delay);
      }
    }
  }

  /**
   * Reads the group's map back from the coordinator, until it is the map of this generation (it
   * names this instance for exactly what it was assigned) or a newer join takes over.
   */
  private async readMap(consumer: Consumer, epoch: number, mine: ReadonlySet<number>): Promise<void> {
    const { ownership, settings } = this.options;
    for (let delay = FIRST_RETRY_MS; this.isCurrent(epoch); delay = Math.min(2 * delay, MAX_RETRY_MS)) {
      let problem: string;
      try {
        const map = ownersFromGroup(await consumer.describeGroup(), settings.keyedTopics);
        if (!this.isCurrent(epoch)) return;
        if (map.ok && namesExactly(map.owners, settings.node, mine)) {
          // A member that joined on metadata from before partitions were added takes the leader's count.
          if (map.partitions !== undefined) ownership.setPartitionCount(map.partitions);
          ownership.setOwners(map.owners);
          this.logger.log(`Partition map: ${describeMap(map.owners)}`);
          return;
        }
        problem = map.ok ? 'the partition map read back is not of this generation yet' : map.problem;
      } catch (err) {
        problem = `the partition map could not be read: ${describe(err)}`;
      }
      if (!this.isCurrent(epoch)) return;
      ownership.setOwners(undefined, problem);
      await sleep(delay);
    }
  }
}

function namesExactly(
  owners: ReadonlyArray<string | undefined>,
  node: string,
  mine: ReadonlySet<number>,
): boolean {
  for (let partition = 0; partition < owners.length; partition++) {
    if ((owners[partition] === node) !== mine.has(partition)) return false;
  }
  return [...mine].every((partition) => owners[partition] === node);
}

function describeMap(owners: ReadonlyArray<string | undefined>): string {
  return owners.map((node, partition) => `${partition}→${node ?? '?'}`).join(' ');
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms).unref());
}
