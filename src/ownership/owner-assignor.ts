import {
  AssignerProtocol,
  type Assignment,
  type GroupDescription,
  type GroupMemberAssignment,
  type PartitionAssigner,
} from 'kafkajs';

/** The name of the assignment protocol every member of the owner group offers. */
export const OWNER_ASSIGNOR = 'gateway-owner';
const METADATA_VERSION = 1;

/** What a member tells the group's leader, in its subscription's userData. */
export interface OwnerMetadata {
  readonly node: string;
  /** The partition indexes it owned in the last generation: they stay with it if they can. */
  readonly owned: readonly number[];
  /** How many partitions the keyed topics have, as this member saw them when it joined. */
  readonly partitions?: number;
}

export interface OwnerMember extends OwnerMetadata {
  readonly memberId: string;
}

/**
 * Shares `partitionCount` partition indexes among `members`, sticky and balanced: every member
 * keeps what it owned, up to its quota (⌊P/N⌋, or one more for the members that kept the most), and
 * only what is over quota, unowned or left by a member that is gone moves, to the members under
 * quota. A member that joins therefore takes ⌊P/(N+1)⌋ partitions and nothing else moves; one that
 * leaves hands on its own only. The result does not depend on the order of `members` (ties go by
 * node name, then member id), so every leader computes the same.
 * @returns partition indexes per member id, ascending
 */
export function assignOwners(members: readonly OwnerMember[], partitionCount: number): Map<string, number[]> {
  const sorted = [...members].sort((a, b) => compare(a.node, b.node) || compare(a.memberId, b.memberId));
  const kept = new Map<OwnerMember, number[]>(sorted.map((member) => [member, []]));
  if (sorted.length === 0) return new Map();
  const claimed = new Set<number>();
  for (const member of sorted) {
    for (const partition of [...new Set(member.owned)].sort((a, b) => a - b)) {
      // A partition two members claim (one of them replaced and not gone yet) goes to the first.
      if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) continue;
      if (claimed.has(partition)) continue;
      claimed.add(partition);
      kept.get(member)!.push(partition);
    }
  }
  const base = Math.floor(partitionCount / sorted.length);
  const extra = partitionCount % sorted.length;
  // Stable: among members that kept as many, node order decides.
  const byKept = [...sorted].sort((a, b) => kept.get(b)!.length - kept.get(a)!.length);
  const quota = new Map(byKept.map((member, rank) => [member, base + (rank < extra ? 1 : 0)]));
  const free: number[] = [];
  for (const member of sorted) free.push(...kept.get(member)!.splice(quota.get(member)!));
  for (let partition = 0; partition < partitionCount; partition++) {
    if (!claimed.has(partition)) free.push(partition);
  }
  free.sort((a, b) => a - b);
  for (const member of sorted) {
    const own = kept.get(member)!;
    while (own.length < quota.get(member)!) own.push(free.shift()!);
  }
  return new Map(sorted.map((member) => [member.memberId, kept.get(member)!.sort((a, b) => a - b)]));
}

export function encodeOwnerMetadata(topics: string[], metadata: OwnerMetadata): Buffer {
  return AssignerProtocol.MemberMetadata.encode({
    version: METADATA_VERSION,
    topics,
    userData: Buffer.from(
      JSON.stringify({ node: metadata.node, owned: metadata.owned, partitions: metadata.partitions }),
    ),
  });
}

/** A member's metadata, or undefined if it is not one this assignor wrote. */
export function decodeOwnerMetadata(buffer: Buffer): OwnerMetadata | undefined {
  try {
    const userData = AssignerProtocol.MemberMetadata.decode(buffer)?.userData;
    const value: unknown = userData ? JSON.parse(userData.toString('utf8')) : undefined;
    if (typeof value !== 'object' || value === null) return undefined;
    const { node, owned, partitions } = value as { node?: unknown; owned?: unknown; partitions?: unknown };
    if (typeof node !== 'string' || !Array.isArray(owned)) return undefined;
    return {
      node,
      owned: owned.filter((partition): partition is number => Number.isInteger(partition)),
      ...(Number.isInteger(partitions) ? { partitions: partitions as number } : {}),
    };
  } catch {
    return undefined;
  }
}

export interface OwnerAssignorOptions {
  readonly node: string;
  readonly keyedTopics: readonly string[];
  readonly broadcastTopics: readonly string[];
  /** What this instance owns now, sent with every join. */
  readonly owned: () => readonly number[];
  /** Told, at every join, how many partitions the keyed topics have as this member sees them. */
  readonly counted: (partitions: number) => void;
}

/**
 * The kafkajs side of the assignor. The group's leader runs `assign`: partition index p of every
 * keyed topic goes to one member (assignOwners), every partition of the broadcast topics to every
 * member. The classic group protocol stores whatever the leader sends, overlaps included, and the
 * instances commit nothing, so sharing the broadcast partitions is harmless
 * (docs/experiments/owner-assignment.mjs).
 */
export function ownerAssigner(options: OwnerAssignorOptions): PartitionAssigner {
  return ({ cluster, logger }) => ({
    name: OWNER_ASSIGNOR,
    version: METADATA_VERSION,
    protocol: ({ topics }) => {
      const partitions = Math.max(
        0,
        ...options.keyedTopics.map((topic) => cluster.findTopicPartitionMetadata(topic).length),
      );
      options.counted(partitions);
      return {
        name: OWNER_ASSIGNOR,
        metadata: encodeOwnerMetadata(topics, { node: options.node, owned: options.owned(), partitions }),
      };
    },
    assign: ({ members, topics }) => {
      const decoded: OwnerMember[] = members.map(({ memberId, memberMetadata }) => {
        const metadata = decodeOwnerMetadata(memberMetadata);
        if (!metadata) logger.warn('A member of the owner group sent no owner metadata', { memberId });
        return { memberId, node: metadata?.node ?? memberId, owned: metadata?.owned ?? [] };
      });
      const partitionsOf = (topic: string): number[] =>
        cluster.findTopicPartitionMetadata(topic).map(({ partitionId }) => partitionId);
      const keyed = topics.filter((topic) => options.keyedTopics.includes(topic));
      const partitionCount = Math.max(0, ...keyed.map((topic) => partitionsOf(topic).length));
      const owners = assignOwners(decoded, partitionCount);
      const assignments: GroupMemberAssignment[] = decoded.map(({ memberId }) => {
        const assignment: Assignment = {};
        const own = new Set(owners.get(memberId));
        for (const topic of topics) {
          const all = partitionsOf(topic);
          const mine = options.broadcastTopics.includes(topic) ? all : all.filter((p) => own.has(p));
          if (mine.length > 0) assignment[topic] = mine;
        }
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: METADATA_VERSION,
            assignment,
            userData: encodeAssignedCount(partitionCount),
          }),
        };
      });
      return Promise.resolve(assignments);
    },
  });
}

/**
 * The leader's partition count, sent with every assignment: it looked the metadata up just before
 * assigning, while a member's own count (in its metadata) may be from before partitions were added.
 */
function encodeAssignedCount(partitions: number): Buffer {
  return Buffer.from(JSON.stringify({ partitions }));
}

function decodeAssignedCount(userData: Buffer | undefined): number | undefined {
  try {
    const value: unknown =
      userData && userData.length > 0 ? JSON.parse(userData.toString('utf8')) : undefined;
    const partitions = (value as { partitions?: unknown } | undefined)?.partitions;
    return Number.isInteger(partitions) ? (partitions as number) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The group's map, as every member reads it back after a join, with the keyed topics' partition
 * count it was made for (undefined from a leader that did not send one).
 */
export type OwnerMap =
  | {
      readonly ok: true;
      readonly owners: ReadonlyArray<string | undefined>;
      readonly partitions: number | undefined;
    }
  | { readonly ok: false; readonly problem: string };

/**
 * The node owning each partition index of the keyed topics, from a description of the group: the
 * members' metadata name them, their assignments say what they own. It is the same on every member
 * for a generation, because the group coordinator holds both. Refused (with why) while the group
 * is not stable, when two members share a node name, or when the keyed topics disagree. The
 * partition count is the leader's, from the assignments; a leader that sent none leaves the
 * members' own counts, and a map they disagree on is refused (partitions were added and not every
 * member has seen it yet).
 */
export function ownersFromGroup(group: GroupDescription, keyedTopics: readonly string[]): OwnerMap {
  if (group.state !== 'Stable') return { ok: false, problem: `the owner group is ${group.state}` };
  if (group.protocol !== OWNER_ASSIGNOR) {
    return {
      ok: false,
      problem: `the owner group uses the assignor ${group.protocol}, not ${OWNER_ASSIGNOR}`,
    };
  }
  const owners: Array<string | undefined> = [];
  const nodes = new Set<string>();
  const counts = new Map<string, number | undefined>();
  const assigned = new Set<number | undefined>();
  for (const member of group.members) {
    const metadata = decodeOwnerMetadata(member.memberMetadata);
    if (!metadata)
      return { ok: false, problem: `member ${member.memberId} of the owner group has no node name` };
    counts.set(metadata.node, metadata.partitions);
    if (nodes.has(metadata.node)) {
      return {
        ok: false,
        problem: `two members of the owner group are named ${metadata.node} (GATEWAY_NODE_NAME)`,
      };
    }
    nodes.add(metadata.node);
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    const assignment = decoded?.assignment ?? {};
    assigned.add(decodeAssignedCount(decoded?.userData));
    for (const topic of keyedTopics) {
      for (const partition of assignment[topic] ?? []) {
        const current = owners[partition];
        if (current !== undefined && current !== metadata.node) {
          return {
            ok: false,
            problem: `partition ${partition} is assigned to ${current} and ${metadata.node}`,
          };
        }
        owners[partition] = metadata.node;
      }
    }
  }
  const [leaderCount] = assigned;
  if (assigned.size === 1 && leaderCount !== undefined) return { ok: true, owners, partitions: leaderCount };
  if (new Set(counts.values()).size > 1) {
    const seen = [...counts].map(([node, count]) => `${node}: ${count ?? '?'}`).join(', ');
    return { ok: false, problem: `the members of the owner group see different partition counts (${seen})` };
  }
  return { ok: true, owners, partitions: undefined };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
