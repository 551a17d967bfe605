import type { MetricsService } from '../metrics/metrics.service.js';
import { alice, bob, eventOf, newLog, publish, testConfig } from '../testing/fixtures.js';
import type { GatewayEvent } from './gateway-event.js';
import { LogPosition } from './log-position.js';
import type { LogFollower } from './partition-log.js';
import type { PartitionLogService } from './partition-log.service.js';

/** A follower that records what the log tells it. */
class Follower implements LogFollower {
  readonly appendedEvents: GatewayEvent[] = [];
  readonly changed: Array<[string, number]> = [];
  lost = 0;

  appended(event: GatewayEvent): number {
    this.appendedEvents.push(event);
    return 1;
  }

  logChanged(topic: string, partition: number): void {
    this.changed.push([topic, partition]);
  }

  feedLost(): void {
    this.lost++;
  }
}

describe('PartitionLogService', () => {
  let sut: PartitionLogService;
  let metrics: MetricsService;
  let follower: Follower;

  beforeEach(() => {
    ({ log: sut, metrics } = newLog());
    follower = new Follower();
    sut.follow(follower);
  });

  const batch = (overrides: Partial<Parameters<PartitionLogService['append']>[0]>) =>
    sut.append({
      topic: 'orders',
      partition: 0,
      fetchedOffset: 0,
      highWatermark: 1,
      offsetReset: false,
      next: 1,
      records: [],
      ...overrides,
    });

  it('should hand each new event to its follower, once', () => {
    const event = eventOf('orders', 0, 0, { kind: 'users', userIds: ['bob', 'carol'] });

    publish(sut, event);
    batch({ records: [event] });

    expect(follower.appendedEvents).toEqual([event]);
  });

  describe('resume', () => {
    it('should serve it from the store when the store holds everything after the position', () => {
      publish(sut, eventOf('orders', 0, 0, alice), eventOf('orders', 0, 1, bob));
      batch({ fetchedOffset: 2, highWatermark: 5, next: 5 });

      const source = sut.resume('alice', ['orders'], LogPosition.parse('orders:0')!);

      expect(source.kind === 'store' && source.events.map((event) => event.offset)).toEqual([0]);
      expect(sut.position(['orders']).get('orders', 0)).toBe(5);
    });

    it('should ask for what the store no longer holds from Kafka, up to where the store takes over', () => {
      sut.startPartition('chat', 1, 100);

      expect(sut.resume('alice', ['chat'], LogPosition.parse('chat:0.50')!)).toEqual({
        kind: 'kafka',
        request: {
          keys: ['alice', '\u0000chat'],
          ranges: [{ topic: 'chat', partition: 1, from: 50, to: 100 }],
        },
      });
    });

    it('should refuse a position before what Kafka still has as expired', () => {
      sut.startPartition('chat', 1, 100);
      sut.sawLogStart('chat', 1, 60);

      expect(sut.resume('alice', ['chat'], LogPosition.parse('chat:0.50')!)).toEqual({
        kind: 'gap',
        reason: 'expired',
      });
    });

    it('should refuse more records than one resume reads', () => {
      ({ log: sut } = newLog([], testConfig({ RESUME_HORIZON_RECORDS: '1000' })));
      sut.startPartition('chat', 0, 2000);

      expect(sut.resume('alice', ['chat'], LogPosition.parse('chat:999')!)).toEqual({
        kind: 'gap',
        reason: 'beyond-horizon',
      });
      expect(sut.resume('alice', ['chat'], LogPosition.parse('chat:1000')!).kind).toBe('kafka');
    });
  });

  it('should tell its follower when the log of a partition changed, and start it over', () => {
    publish(sut, eventOf('orders', 0, 0, alice), eventOf('orders', 0, 1, alice));

    batch({ offsetReset: true, records: [eventOf('orders', 0, 0, alice)] });

    expect(follower.changed).toEqual([['orders', 0]]);
    expect(follower.appendedEvents).toHaveLength(3);
    expect(sut.nextOffset('orders', 0)).toBe(1);
  });

  it('should tell its follower once when the feed is lost, and be available again once it is back', () => {
    sut.feedLost('the consumer stopped');
    sut.feedLost('again');

    expect(follower.lost).toBe(1);
    expect(sut.available).toBe(false);
    sut.feedRestored();
    expect(sut.available).toBe(true);
  });

  it('should start a partition it first hears of from the consumer where the consumer reads', () => {
    batch({ partition: 7, records: [eventOf('orders', 7, 0, alice)] });

    expect(follower.appendedEvents).toHaveLength(1);
    expect(sut.knows('orders', 7)).toBe(true);
  });

  it('should forget the partitions another instance owns now, their lag included', async () => {
    metrics.lag('orders', 0, 3);
    metrics.lag('orders', 1, 5);

    sut.dropPartitions('orders', new Set([1]));

    const lag = await metrics.registry.getSingleMetric('kafka_consumer_lag')!.get();
    expect(lag.values.map(({ labels, value }) => [labels.partition, value])).toEqual([['0', 3]]);
    expect(sut.knows('orders', 1)).toBe(false);
    expect(sut.knows('orders', 0)).toBe(true);
  });
});
