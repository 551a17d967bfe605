import { EveryInstance, type ConsumerMembership } from '../ownership/ownership.js';
import { newLog } from '../testing/fixtures.js';
import { ConsumerHealthService } from './consumer-health.service.js';
import { LogWatch } from './log-watch.js';

describe(LogWatch.name, () => {
  const logger = {
    log: () => undefined,
    debug: () => undefined,
    error: () => undefined,
    warn: () => undefined,
  };

  function watch(
    offsets: (topic: string) => Promise<Array<{ partition: number; high: string; low: string }>>,
    membership: ConsumerMembership = new EveryInstance(['orders']),
  ) {
    const { log } = newLog([['orders', 0]]);
    const health = new ConsumerHealthService();
    const sut = new LogWatch({
      admin: {
        fetchTopicOffsets: (topic: string) =>
          offsets(topic).then((list) => list.map((entry) => ({ ...entry, offset: entry.high }))),
      },
      log,
      health,
      membership,
      topics: ['orders'],
      intervalMs: 1000,
      recoveryTimeoutMs: 5000,
      logger,
    });
    return { sut, log, health };
  }

  it('should start a partition added at run time at its beginning, and note every log end', async () => {
    const { sut, log } = watch(() =>
      Promise.resolve([
        { partition: 0, high: '9', low: '0' },
        { partition: 1, high: '5', low: '2' },
      ]),
    );

    await sut.refresh();

    expect(log.nextOffset('orders', 1)).toBe(2);
    expect([log.logEndOf('orders', 0).end, log.logEndOf('orders', 1).end]).toEqual([9, 5]);
  });

  it('should leave a new partition to the membership that starts it when gained', async () => {
    const keyed = {
      ...new EveryInstance(['orders']),
      startsOnSight: () => false,
    } as unknown as ConsumerMembership;
    const { sut, log } = watch(() => Promise.resolve([{ partition: 1, high: '5', low: '2' }]), keyed);

    await sut.refresh();

    expect(log.knows('orders', 1)).toBe(false);
  });

  it('should fail readiness while a topic is missing, and recover once it is back', async () => {
    let missing = true;
    const { sut, health } = watch(() =>
      missing
        ? Promise.reject(Object.assign(new Error('gone'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' }))
        : Promise.resolve([]),
    );

    await sut.refresh();
    expect(health.kafkaProblems()).toContain('topic orders does not exist in Kafka');
    missing = false;
    await sut.refresh();
    expect(health.kafkaProblems()).not.toContain('topic orders does not exist in Kafka');
  });

  it('should give up on a consumer stopped for longer than the recovery timeout', async () => {
    const { sut, health } = watch(() => Promise.resolve([]));
    health.broken('gone', Date.now() - 6000);

    await sut.refresh();

    expect(health.liveness().ready).toBe(false);
  });
});
