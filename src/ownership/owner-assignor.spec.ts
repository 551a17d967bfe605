import { AssignerProtocol, type Cluster, type GroupDescription, type Logger } from 'kafkajs';
import {
  assignOwners,
  decodeOwnerMetadata,
  encodeOwnerMetadata,
  OWNER_ASSIGNOR,
  ownerAssigner,
  ownersFromGroup,
  type OwnerMember,
} from './owner-assignor.js';

const member = (node: string, owned: number[] = [], memberId = `${node}-id`): OwnerMember => ({
  memberId,
  node,
  owned,
});

/** Feeds each generation's result back as what the members owned, as the group protocol does. */
function nextGeneration(members: OwnerMember[], partitions: number): OwnerMember[] {
  const result = assignOwners(members, partitions);
  return members.map((m) => ({ ...m, owned: result.get(m.memberId)! }));
}

function moved(before: OwnerMember[], after: Map<string, number[]>): number {
  let count = 0;
  for (const m of before) {
    for (const partition of m.owned) if (!after.get(m.memberId)?.includes(partition)) count++;
  }
  return count;
}

describe(assignOwners.name, () => {
  it('should give every partition to exactly one member, balanced within one', () => {
    for (const [members, partitions] of [
      [1, 6],
      [2, 6],
      [3, 6],
      [4, 6],
      [3, 7],
      [5, 64],
      [7, 3],
    ] as const) {
      const sut = assignOwners(
        Array.from({ length: members }, (_, i) => member(`gw-${i}`)),
        partitions,
      );
      const all = [...sut.values()].flat().sort((a, b) => a - b);
      const sizes = [...sut.values()].map((owned) => owned.length);

      expect(all).toEqual(Array.from({ length: partitions }, (_, i) => i));
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('should move only ⌊P/(N+1)⌋ partitions, all to the newcomer, when a member joins', () => {
    for (const [members, partitions] of [
      [1, 6],
      [2, 6],
      [2, 7],
      [3, 64],
      [4, 120],
    ] as const) {
      let group = nextGeneration(
        Array.from({ length: members }, (_, i) => member(`gw-${i}`)),
        partitions,
      );
      group = [...group, member('gw-new')];
      const sut = assignOwners(group, partitions);

      expect(moved(group, sut)).toBe(Math.floor(partitions / (members + 1)));
      expect(sut.get('gw-new-id')).toHaveLength(Math.floor(partitions / (members + 1)));
    }
  });

  it('should move only the partitions of a member that leaves', () => {
    for (const [members, partitions] of [
      [2, 6],
      [3, 6],
      [3, 7],
      [4, 64],
    ] as const) {
      const group = nextGeneration(
        Array.from({ length: members }, (_, i) => member(`gw-${i}`)),
        partitions,
      );
      const [leaver, ...rest] = group;
      const sut = assignOwners(rest, partitions);

      expect(moved(rest, sut)).toBe(0);
      expect([...sut.values()].flat().sort((a, b) => a - b)).toEqual(
        Array.from({ length: partitions }, (_, i) => i),
      );
      expect(leaver!.owned.every((p) => [...sut.values()].some((owned) => owned.includes(p)))).toBe(true);
    }
  });

  it('should not depend on the order of the members', () => {
    const group = [member('gw-b', [0, 1, 5]), member('gw-c'), member('gw-a', [2, 3, 4])];
    const sut = assignOwners(group, 6);

    expect(assignOwners([...group].reverse(), 6)).toEqual(sut);
    expect(assignOwners([group[1]!, group[2]!, group[0]!], 6)).toEqual(sut);
  });

  it('should give a partition two members claim to the first by node name, and ignore claims out of range', () => {
    const sut = assignOwners([member('gw-b', [0, 1, 9]), member('gw-a', [1, -1, 2.5])], 4);

    expect(sut.get('gw-a-id')).toContain(1);
    expect(sut.get('gw-b-id')).toContain(0);
    expect([...sut.values()].flat().sort()).toEqual([0, 1, 2, 3]);
  });

  it('should assign nothing without members', () => {
    expect(assignOwners([], 6)).toEqual(new Map());
  });
});

describe('owner metadata', () => {
  it('should survive the group protocol’s encoding', () => {
    const buffer = encodeOwnerMetadata(['orders', 'broadcasts'], { node: 'gw-2', owned: [1, 4] });

    expect(decodeOwnerMetadata(buffer)).toEqual({ node: 'gw-2', owned: [1, 4] });
    expect(AssignerProtocol.MemberMetadata.decode(buffer)?.topics).toEqual(['orders', 'broadcasts']);
  });

  it.each([
    ['no user data', Buffer.alloc(0)],
    ['text that is not JSON', Buffer.from('gw-1')],
    ['JSON without a node', Buffer.from('{"owned":[]}')],
  ])('should refuse metadata with %s', (_, userData) => {
    const buffer = AssignerProtocol.MemberMetadata.encode({ version: 1, topics: [], userData });

    expect(decodeOwnerMetadata(buffer)).toBeUndefined();
  });
});

describe(ownerAssigner.name, () => {
  const cluster = {
    findTopicPartitionMetadata: (topic: string) =>
      Array.from({ length: topic === 'broadcasts' ? 2 : 6 }, (_, partitionId) => ({ partitionId })),
  } as unknown as Cluster;
  const logger = { warn: () => undefined } as unknown as Logger;
  const options = (node: string, owned: number[] = []) => ({
    node,
    keyedTopics: ['orders', 'chat'],
    broadcastTopics: ['broadcasts'],
    owned: () => owned,
    counted: (partitions: number) => counts.push(partitions),
  });
  let counts: number[];

  beforeEach(() => {
    counts = [];
  });

  it('should give keyed partitions to one member each, the same index on every keyed topic, and broadcasts to all', async () => {
    const topics = ['broadcasts', 'chat', 'orders'];
    const members = ['gw-1', 'gw-2', 'gw-3'].map((node) => ({
      memberId: `${node}-id`,
      memberMetadata: ownerAssigner(options(node))({ cluster, logger, groupId: 'g' }).protocol({ topics })
        .metadata,
    }));
    const sut = ownerAssigner(options('gw-1'))({ cluster, logger, groupId: 'g' });

    const result = await sut.assign({ members, topics });
    const assignments = new Map(
      result.map(({ memberId, memberAssignment }) => [
        memberId,
        AssignerProtocol.MemberAssignment.decode(memberAssignment)!.assignment,
      ]),
    );

    expect(sut.name).toBe(OWNER_ASSIGNOR);
    for (const assignment of assignments.values()) {
      expect(assignment['broadcasts']).toEqual([0, 1]);
      expect(assignment['chat']).toEqual(assignment['orders']);
      expect(assignment['orders']).toHaveLength(2);
    }
    expect(
      [...assignments.values()].flatMap((assignment) => assignment['orders']!).sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5]);
    expect(counts).toEqual([6, 6, 6]);
    for (const { memberAssignment } of result) {
      expect(AssignerProtocol.MemberAssignment.decode(memberAssignment)!.userData.toString()).toBe(
        '{"partitions":6}',
      );
    }
  });
});

describe(ownersFromGroup.name, () => {
  const described = (
    members: Array<{
      node: string;
      assignment: Record<string, number[]>;
      partitions?: number;
      leaderCount?: number;
    }>,
    state: GroupDescription['state'] = 'Stable',
  ): GroupDescription => ({
    groupId: 'owners',
    state,
    protocol: OWNER_ASSIGNOR,
    protocolType: 'consumer',
    members: members.map(({ node, assignment, partitions, leaderCount }) => ({
      memberId: `${node}-id`,
      clientId: 'gateway',
      clientHost: '/127.0.0.1',
      memberMetadata: encodeOwnerMetadata(['orders', 'broadcasts'], { node, owned: [], partitions }),
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment,
        userData: Buffer.from(leaderCount === undefined ? '' : JSON.stringify({ partitions: leaderCount })),
      }),
    })),
  });

  it('should name the owner of every keyed partition index, ignoring broadcast topics', () => {
    const sut = ownersFromGroup(
      described([
        { node: 'gw-1', assignment: { orders: [0, 2], broadcasts: [0, 1] } },
        { node: 'gw-2', assignment: { orders: [1, 3], broadcasts: [0, 1] } },
      ]),
      ['orders'],
    );

    expect(sut).toEqual({ ok: true, owners: ['gw-1', 'gw-2', 'gw-1', 'gw-2'], partitions: undefined });
  });

  it('should refuse a group that is not stable', () => {
    expect(ownersFromGroup(described([], 'PreparingRebalance'), ['orders'])).toEqual({
      ok: false,
      problem: 'the owner group is PreparingRebalance',
    });
  });

  it('should refuse two members with the same node name', () => {
    const sut = ownersFromGroup(
      described([
        { node: 'gw-1', assignment: { orders: [0] } },
        { node: 'gw-1', assignment: { orders: [1] } },
      ]),
      ['orders'],
    );

    expect(sut).toEqual({ ok: false, problem: expect.stringContaining('two members') as unknown });
  });

  it('should take the leader’s partition count from the assignments, whatever count a member joined with', () => {
    const sut = ownersFromGroup(
      described([
        { node: 'gw-1', assignment: { orders: [0, 1, 2] }, partitions: 6, leaderCount: 6 },
        { node: 'gw-2', assignment: { orders: [3, 4, 5] }, partitions: 3, leaderCount: 6 },
      ]),
      ['orders'],
    );

    expect(sut).toEqual({
      ok: true,
      owners: ['gw-1', 'gw-1', 'gw-1', 'gw-2', 'gw-2', 'gw-2'],
      partitions: 6,
    });
  });

  it('should refuse a map whose members see different partition counts, from a leader that sent none', () => {
    const sut = ownersFromGroup(
      described([
        { node: 'gw-1', assignment: { orders: [0, 1, 2] }, partitions: 6 },
        { node: 'gw-2', assignment: { orders: [3, 4, 5] }, partitions: 3 },
      ]),
      ['orders'],
    );

    expect(sut).toEqual({
      ok: false,
      problem: 'the members of the owner group see different partition counts (gw-1: 6, gw-2: 3)',
    });
  });

  it('should refuse keyed topics whose same partition index has different owners', () => {
    const sut = ownersFromGroup(
      described([
        { node: 'gw-1', assignment: { orders: [0], chat: [1] } },
        { node: 'gw-2', assignment: { orders: [1], chat: [0] } },
      ]),
      ['orders', 'chat'],
    );

    expect(sut.ok).toBe(false);
  });
});
