import { newLog } from '../testing/fixtures.js';
import { ConsumerHealthService } from './consumer-health.service.js';
import { StartPositions } from './start-positions.js';

const NOW = 1_700_000_000_000;

describe(StartPositions.name, () => {
  const admin = {
    listTopics: () => Promise.resolve(['orders', 'chat']),
    fetchTopicOffsetsByTimestamp: (_topic: string, since?: number) => {
      asked.push(since!);
      return Promise.resolve([
        { partition: 0, offset: '10' },
        { partition: 1, offset: '4' },
      ]);
    },
    fetchTopicOffsets: () =>
      Promise.resolve([
        { partition: 0, offset: '20', high: '20', low: '0' },
        { partition: 1, offset: '4', high: '4', low: '0' },
      ]),
  };
  let asked: number[];

  beforeEach(() => {
    asked = [];
  });

  it('should start each partition where the window starts, history up to its log end of now', async () => {
    const { log } = newLog([]);
    const health = new ConsumerHealthService();
    const sut = new StartPositions(log, health, 60_000);

    await sut.fromWindow(admin, ['orders', 'chat'], ['orders'], NOW);

    expect(asked).toEqual([NOW - 60_000]);
    expect([log.nextOffset('orders', 0), log.liveFromOf('orders', 0), log.nextOffset('orders', 1)]).toEqual([
      10, 20, 4,
    ]);
    expect(log.knows('chat', 0)).toBe(false);
    expect(health.partitionsBehind).toBe(1);
  });

  it('should name every configured topic that does not exist', async () => {
    const sut = new StartPositions(newLog([]).log, new ConsumerHealthService(), 60_000);

    await expect(sut.fromWindow(admin, ['orders', 'payments', 'audit'], [], NOW)).rejects.toThrow(
      'KAFKA_TOPICS names topics that do not exist in Kafka: payments, audit. Create them first.',
    );
  });

  it('should wait for partitions whose leader is not elected yet, then start them', async () => {
    const { log } = newLog([]);
    let refusals = 2;
    const electing = {
      ...admin,
      fetchTopicOffsets: () =>
        refusals-- > 0
          ? Promise.reject(Object.assign(new Error('This server is not the leader'), { retriable: true }))
          : admin.fetchTopicOffsets(),
    };

    await new StartPositions(log, new ConsumerHealthService(), 60_000, {
      totalMs: 1_000,
      firstMs: 1,
    }).fromWindow(electing, ['orders'], ['orders'], NOW);

    expect(refusals).toBe(-1);
    expect(log.nextOffset('orders', 0)).toBe(10);
  });

  it('should fail start-up on an error that waiting does not cure, or when the wait runs out', async () => {
    const failing = (retriable: boolean) => ({
      ...admin,
      fetchTopicOffsets: () =>
        Promise.reject(Object.assign(new Error(`retriable ${retriable}`), { retriable })),
    });
    const sut = new StartPositions(newLog([]).log, new ConsumerHealthService(), 60_000, {
      totalMs: 20,
      firstMs: 1,
    });

    await expect(sut.fromWindow(failing(false), ['orders'], ['orders'], NOW)).rejects.toThrow(
      'retriable false',
    );
    await expect(sut.fromWindow(failing(true), ['orders'], ['orders'], NOW)).rejects.toThrow(
      'retriable true',
    );
  });

  it('should seek assigned partitions the log knows to where processing stands, and leave the others', () => {
    const { log } = newLog([['orders', 0]]);
    log.advanceTo('orders', 0, 42);
    const seeks: string[] = [];

    new StartPositions(log, new ConsumerHealthService(), 60_000).seekOnJoin(
      { seek: ({ topic, partition, offset }) => void seeks.push(`${topic}/${partition}@${offset}`) },
      { orders: [0, 5] },
    );

    expect(seeks).toEqual(['orders/0@42']);
  });
});
