import { Registry } from 'prom-client';
import { testConfig } from '../testing/fixtures.js';
import { EveryInstance } from './ownership.js';
import { OwnershipMetrics } from './ownership.metrics.js';
import { PartitionOwnershipService } from './partition-ownership.service.js';
import { UserPartitioner } from './user-partition.js';

const OWNER_ENV = {
  KAFKA_CONSUMPTION: 'partition-owner',
  KAFKA_BROADCAST_TOPICS: 'alerts',
  GATEWAY_NODE_NAME: 'gw-1',
};

/** A user id on `partition` of 6, found by trying names. */
function userOn(partition: number, prefix = 'user'): string {
  const partitioner = new UserPartitioner(6);
  for (let i = 0; ; i++) if (partitioner.partitionOf(`${prefix}-${i}`) === partition) return `${prefix}-${i}`;
}

describe(PartitionOwnershipService.name, () => {
  let sut: PartitionOwnershipService;
  let registry: Registry;

  beforeEach(() => {
    registry = new Registry();
    sut = new PartitionOwnershipService(testConfig(OWNER_ENV).ownership!, new OwnershipMetrics(registry));
    sut.setPartitionCount(6);
  });

  const metric = async (name: string): Promise<number> =>
    (await registry.getSingleMetric(name)!.get()).values.reduce((sum, value) => sum + value.value, 0);

  it('should serve everyone, route nothing away and have no readiness of its own, in every-instance mode', () => {
    const every = new EveryInstance(['orders']);

    expect(every.serves()).toBe(true);
    expect(every.routeStream()).toEqual({ kind: 'serve' });
    expect(every.misroutes()).toBe(false);
    expect(every.resumeScope()('orders', 3)).toBe(true);
    expect(every.readiness()).toBeUndefined();
  });

  it('should serve a user only once its partition is assigned and warm', () => {
    const user = userOn(2);
    sut.assign(new Set([2, 5]));

    expect(sut.serves(user)).toBe(false);
    sut.warmed(2);
    expect(sut.serves(user)).toBe(true);
    expect(sut.serves(userOn(3))).toBe(false);
  });

  it('should tell the listeners which users moved before forgetting lost partitions', () => {
    const ended: string[] = [];
    const users = [userOn(0), userOn(1), userOn(2)];
    sut.onMoved((moved: (userId: string) => boolean) => {
      ended.push(...users.filter(moved));
      // Still owned while the streams end: their last checkpoint carries the partition.
      expect(sut.owned()).toEqual([0, 1, 2]);
    });
    sut.assign(new Set([0, 1, 2]));
    sut.warmed(1);

    const lost = sut.assign(new Set([0, 4]));

    expect(lost).toEqual([1, 2]);
    expect(ended).toEqual([users[1], users[2]]);
    expect(sut.owned()).toEqual([0, 4]);
    expect(sut.isWarm(1)).toBe(false);
  });

  it('should count owned partitions and warm-ups', async () => {
    sut.assign(new Set([0, 1, 2]));
    sut.warmed(0);
    sut.warmed(0);
    sut.warmed(5);

    expect(await metric('gateway_owned_partitions')).toBe(3);
    expect(await metric('gateway_partition_warmups_total')).toBe(1);
  });

  it('should name the owner from the group’s map, and nobody while it is rebuilt', () => {
    sut.setOwners(['gw-1', 'gw-2', 'gw-3', 'gw-1', 'gw-2', 'gw-3']);
    expect(sut.ownerOf(userOn(4))).toBe('gw-2');

    sut.setOwners(undefined, 'the owner group is rebalancing');
    expect(sut.ownerOf(userOn(4))).toBeUndefined();
    expect(sut.problems()).toEqual(['the owner group is rebalancing']);
  });

  it('should judge no record while the group’s map is rebuilt, as partitions may have been added', () => {
    sut.setOwners(undefined, 'the owner group is rebalancing');

    expect(sut.misroutes('orders', 2, { kind: 'user', userId: userOn(3) })).toBe(false);
  });

  it('should key users by a new partition count, and move the streams of those whose partition changed', () => {
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const before = users.map((user) => sut.partitionOf(user));
    const moved: string[] = [];
    sut.onMoved((isMoved: (userId: string) => boolean) => moved.push(...users.filter(isMoved)));

    sut.setPartitionCount(6);
    sut.setPartitionCount(9);

    const after = new UserPartitioner(9);
    expect(users.map((user) => sut.partitionOf(user))).toEqual(users.map((user) => after.partitionOf(user)));
    expect(moved).toEqual(users.filter((user, i) => before[i] !== after.partitionOf(user)));
    expect(moved.length).toBeGreaterThan(0);
  });

  it("should stay ready while the group's map is rebuilt, and be unready only while its own partitions warm", () => {
    sut.assign(new Set([1, 3]));
    sut.warmed(1);
    sut.setOwners(undefined, 'the owner group is rebalancing');

    expect(sut.readiness()).toEqual({
      ready: false,
      details: { node: 'gw-1', reasons: ['warming partition(s) 3'], map: 'the owner group is rebalancing' },
    });
    sut.warmed(3);
    expect(sut.readiness()).toEqual({
      ready: true,
      details: { node: 'gw-1', partitions: [1, 3], map: 'the owner group is rebalancing' },
    });
  });

  it('should report partitions still warming', () => {
    sut.setOwners(['gw-1']);
    sut.assign(new Set([3, 1]));
    sut.warmed(3);

    expect(sut.problems()).toEqual(['warming partition(s) 1']);
  });

  it('should find records on keyed topics that their users’ owner never reads', () => {
    sut.setOwners(['gw-1', 'gw-2', 'gw-3', 'gw-1', 'gw-2', 'gw-3']);
    const user = userOn(3);
    const other = userOn(4, 'other');

    expect(sut.misroutes('orders', 3, { kind: 'user', userId: user })).toBe(false);
    expect(sut.misroutes('orders', 2, { kind: 'user', userId: user })).toBe(true);
    expect(sut.misroutes('orders', 3, { kind: 'users', userIds: [user, userOn(3, 'more')] })).toBe(false);
    expect(sut.misroutes('orders', 3, { kind: 'users', userIds: [user, other] })).toBe(true);
    expect(sut.misroutes('orders', 3, { kind: 'broadcast' })).toBe(true);
    // Every instance reads a broadcast topic whole: any record there reaches its users.
    expect(sut.misroutes('alerts', 0, { kind: 'user', userId: user })).toBe(false);
    expect(sut.misroutes('alerts', 1, { kind: 'broadcast' })).toBe(false);
  });

  it('should scope a resume point to the user’s partition of keyed topics and all of broadcast topics', () => {
    const scope = sut.resumeScope(userOn(5));

    expect([scope('orders', 5), scope('chat', 5), scope('orders', 0), scope('alerts', 0)]).toEqual([
      true,
      true,
      false,
      true,
    ]);
  });
});
