import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AssignerProtocol, type Admin, type Consumer, type GroupDescription } from 'kafkajs';
import { Registry } from 'prom-client';
import type { PartitionLogService } from '../log/partition-log.service.js';
import { newLog, testConfig } from '../testing/fixtures.js';
import { encodeOwnerMetadata, OWNER_ASSIGNOR } from './owner-assignor.js';
import { OwnerGroup } from './owner-group.js';
import { OwnershipMetrics } from './ownership.metrics.js';
import { PartitionOwnershipService } from './partition-ownership.service.js';

const config = testConfig({
  KAFKA_CONSUMPTION: 'partition-owner',
  KAFKA_BROADCAST_TOPICS: 'alerts',
  GATEWAY_NODE_NAME: 'gw-1',
});
const KEYED = ['orders', 'chat'];

/** Where the window starts and the log ends, per partition of every keyed topic. */
const START = [10, 0, 5, 0];
const END = [20, 0, 5, 7];

function group(
  owners: string[],
  state: GroupDescription['state'] = 'Stable',
  leaderCount?: number,
): GroupDescription {
  const nodes = [...new Set(owners)];
  return {
    groupId: 'owners',
    state,
    protocol: OWNER_ASSIGNOR,
    protocolType: 'consumer',
    members: nodes.map((node) => {
      const partitions = owners.flatMap((owner, partition) => (owner === node ? [partition] : []));
      return {
        memberId: `${node}-id`,
        clientId: 'gateway',
        clientHost: '/127.0.0.1',
        memberMetadata: encodeOwnerMetadata([...KEYED, 'alerts'], { node, owned: [] }),
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: { orders: partitions, chat: partitions, alerts: [0] },
          userData: Buffer.from(leaderCount === undefined ? '' : JSON.stringify({ partitions: leaderCount })),
        }),
      };
    }),
  };
}

describe(OwnerGroup.name, () => {
  let sut: OwnerGroup;
  let log: PartitionLogService;
  let ownership: PartitionOwnershipService;
  let calls: string[];
  let described: GroupDescription;
  let consumer: Consumer;

  const admin = {
    fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
      Promise.resolve({
        topics: topics.map((name) => ({
          name,
          partitions: Array.from({ length: name === 'chat' ? partitionsOfChat : 4 }, (_, partitionId) => ({
            partitionId,
          })),
        })),
      }),
    fetchTopicOffsetsByTimestamp: () =>
      Promise.resolve(START.map((offset, partition) => ({ partition, offset: String(offset) }))),
    fetchTopicOffsets: () =>
      Promise.resolve(
        END.map((high, partition) => ({ partition, offset: String(high), high: String(high), low: '0' })),
      ),
  } as unknown as Admin;
  let partitionsOfChat = 4;

  /** Lets the warm-up and the map lookup, which await fakes, run to their end. */
  const settle = () => new Promise((done) => setImmediate(done));

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    partitionsOfChat = 4;
    ({ log } = newLog([['alerts', 0]], config));
    ownership = new PartitionOwnershipService(config.ownership!, new OwnershipMetrics(new Registry()));
    calls = [];
    described = group(['gw-1', 'gw-2', 'gw-1', 'gw-2']);
    consumer = {
      pause: (topics: Array<{ topic: string; partitions: number[] }>) =>
        calls.push(`pause ${topics.map((t) => `${t.topic}:${t.partitions.join('.')}`).join(' ')}`),
      resume: (topics: Array<{ topic: string; partitions: number[] }>) =>
        calls.push(`resume ${topics.map((t) => `${t.topic}:${t.partitions.join('.')}`).join(' ')}`),
      seek: ({ topic, partition, offset }: { topic: string; partition: number; offset: string }) =>
        calls.push(`seek ${topic}/${partition}@${offset}`),
      describeGroup: () => Promise.resolve(described),
    } as unknown as Consumer;
    sut = new OwnerGroup({ settings: config.ownership!, windowMs: 60_000, log, ownership });
    await sut.prepare(admin);
  });

  afterEach(() => sut.close());

  it('should refuse keyed topics with different partition counts', async () => {
    partitionsOfChat = 3;

    await expect(sut.prepare(admin)).rejects.toThrow(
      'the keyed topics must have the same number of partitions (orders has 4, chat has 3)',
    );
  });

  it('should key users by the partition count this member reported when it joined', () => {
    const cluster = {
      findTopicPartitionMetadata: () => Array.from({ length: 8 }, (_, partitionId) => ({ partitionId })),
    };
    const [assigner] = sut.consumerOptions().partitionAssigners!;
    assigner!({ cluster, logger: { warn: () => undefined }, groupId: 'owners' } as never).protocol({
      topics: KEYED,
    });
    expect(ownership.partitionCount).toBe(4);

    sut.joined(consumer, { orders: [0], chat: [0] });

    expect(ownership.partitionCount).toBe(8);
  });

  it('should take the leader’s partition count with the map, when this member joined on metadata from before partitions were added', async () => {
    described = group(['gw-1', 'gw-2', 'gw-1', 'gw-2', 'gw-1', 'gw-2'], 'Stable', 6);

    sut.joined(consumer, { orders: [0, 2, 4], chat: [0, 2, 4] });
    expect(ownership.partitionCount).toBe(4);
    await settle();

    expect(ownership.partitionCount).toBe(6);
    expect(ownership.ownerOf(userOn(ownership, 5))).toBe('gw-2');
  });

  it('should hold gained partitions paused until they are moved to the start of the replay window', async () => {
    sut.joined(consumer, { orders: [0, 2], chat: [0, 2], alerts: [0] });

    expect(calls).toEqual(['pause orders:0.2 chat:0.2']);
    expect(sut.reads('orders', 0)).toBe(false);
    await settle();

    expect(calls.slice(1)).toEqual([
      'seek orders/0@10',
      'seek chat/0@10',
      'seek orders/2@5',
      'seek chat/2@5',
      'resume orders:0.2 chat:0.2',
    ]);
    expect([log.nextOffset('orders', 0), log.liveFromOf('orders', 0), log.nextOffset('chat', 2)]).toEqual([
      10, 20, 5,
    ]);
    expect([sut.reads('orders', 0), sut.reads('orders', 1), sut.reads('alerts', 0)]).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('should make a gained partition warm once every keyed topic has reached its log end of then', async () => {
    sut.joined(consumer, { orders: [0, 2], chat: [0, 2] });
    await settle();

    // Partition 2 had nothing to read.
    expect([ownership.isWarm(0), ownership.isWarm(2)]).toEqual([false, true]);
    sut.reached('orders', 0, 20);
    expect(ownership.isWarm(0)).toBe(false);
    sut.reached('chat', 0, 19);
    expect(ownership.isWarm(0)).toBe(false);
    sut.reached('chat', 0, 20);
    expect(ownership.isWarm(0)).toBe(true);
  });

  it('should end the streams of lost partitions, then forget them, and keep the others as they are', async () => {
    const moved: boolean[] = [];
    ownership.onMoved((isMoved: (userId: string) => boolean) => {
      moved.push(isMoved(userOn(ownership, 0)), isMoved(userOn(ownership, 2)));
      expect(log.knows('orders', 0)).toBe(true);
    });
    sut.joined(consumer, { orders: [0, 2], chat: [0, 2] });
    await settle();
    calls = [];

    sut.joined(consumer, { orders: [2, 3], chat: [2, 3] });

    expect(moved).toEqual([true, false]);
    expect([log.knows('orders', 0), log.knows('chat', 0), log.knows('orders', 2)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(ownership.owned()).toEqual([2, 3]);
    expect(calls).toEqual(['pause orders:3 chat:3']);
  });

  it('should drop a warm-up that a newer join overtook', async () => {
    sut.joined(consumer, { orders: [0], chat: [0] });
    sut.joined(consumer, { orders: [1], chat: [1] });
    await settle();

    expect(log.knows('orders', 0)).toBe(false);
    expect(calls).toContain('resume orders:1 chat:1');
    expect(calls).not.toContain('resume orders:0 chat:0');
  });

  it('should take the map of the group once it names this instance for exactly what it was assigned', async () => {
    sut.joined(consumer, { orders: [0, 2], chat: [0, 2] });
    expect(ownership.problems()).toContain(
      'the partition map of the owner group is being read after a rebalance',
    );
    await settle();

    expect(ownership.ownerOf(userOn(ownership, 1))).toBe('gw-2');
    expect(ownership.ownerOf(userOn(ownership, 2))).toBe('gw-1');
  });

  it('should keep asking while the group is not stable, or its map is of another generation', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      described = group(['gw-1', 'gw-2', 'gw-1', 'gw-2'], 'CompletingRebalance');
      sut.joined(consumer, { orders: [0, 2], chat: [0, 2] });
      await settle();
      expect(ownership.problems()).toContain('the owner group is CompletingRebalance');

      described = group(['gw-1', 'gw-1', 'gw-2', 'gw-2']);
      await jest.advanceTimersByTimeAsync(100);
      expect(ownership.problems()).toContain('the partition map read back is not of this generation yet');

      described = group(['gw-1', 'gw-2', 'gw-1', 'gw-2']);
      await jest.advanceTimersByTimeAsync(200);
      expect(ownership.ownerOf(userOn(ownership, 3))).toBe('gw-2');
    } finally {
      jest.useRealTimers();
    }
  });
});

function userOn(ownership: PartitionOwnershipService, partition: number): string {
  for (let i = 0; ; i++) if (ownership.partitionOf(`user-${i}`) === partition) return `user-${i}`;
}
