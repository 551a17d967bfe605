import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { KafkaMessage } from 'kafkajs';
import type { GatewayConfig } from '../config/gateway.config.js';
import type { EventBusService } from '../event-bus/event-bus.service.js';
import type { HubSubscriber } from '../event-bus/stream-hub.js';
import type { GatewayEvent } from '../log/gateway-event.js';
import { LogPosition } from '../log/log-position.js';
import type { PartitionBatch } from '../log/partition-batch.js';
import type { PartitionLogService } from '../log/partition-log.service.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { EveryInstance, type Ownership } from '../ownership/ownership.js';
import { OwnershipMetrics } from '../ownership/ownership.metrics.js';
import { PartitionOwnershipService } from '../ownership/partition-ownership.service.js';
import { newLog, testConfig } from '../testing/fixtures.js';
import type { ConsumedBatch } from './consumed-batch.js';
import type { DeadLetter, DeadLetterService } from './dead-letter.service.js';
import { InboundRecordService } from './inbound-record.service.js';
import { SKIPPED_BATCH_HEADER, SKIPPED_COUNT_HEADER, SKIPPED_FROM_HEADER } from './skipped-batch.js';

const SECRET = 'card-4111-1111-1111-1111';
const TIMESTAMP = '1700000000000';

function message(value: unknown, offset: number, headers: KafkaMessage['headers'] = {}): KafkaMessage {
  return {
    key: null,
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    offset: String(offset),
    timestamp: TIMESTAMP,
    attributes: 0,
    headers,
  };
}

/** A batch fetched where processing stands (0, as the fixture bus starts): records after gaps are compacted ones. */
function batchOf(messages: KafkaMessage[], overrides: Partial<ConsumedBatch> = {}): ConsumedBatch {
  const last = Number(messages.at(-1)?.offset ?? 0);
  return {
    topic: 'orders',
    partition: 1,
    fetchedOffset: 0,
    highWatermark: last + 1,
    next: last + 1,
    offsetReset: false,
    records: messages,
    ...overrides,
  };
}

/** A counter's non-zero values by one label, from the registry. */
async function counted(metrics: MetricsService, name: string, label: string): Promise<Map<string, number>> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return new Map(
    metric.values
      .filter((value) => value.value > 0)
      .map((value) => [String(value.labels[label]), value.value]),
  );
}

describe(InboundRecordService.name, () => {
  let sut: InboundRecordService;
  let bus: EventBusService;
  let log: PartitionLogService;
  let metrics: MetricsService;
  let copies: Array<[string, string]>;
  let warnings: string[];
  let dispatched: Array<PartitionBatch<GatewayEvent>>;

  const use = (
    config: GatewayConfig,
    ownership: Ownership = new EveryInstance(config.kafka.topics),
  ): void => {
    ({ bus, log, metrics } = newLog(
      [
        ['orders', 1],
        ['chat', 0],
      ],
      config,
    ));
    copies = [];
    const deadLetters = {
      copy: (letters: readonly DeadLetter[]) =>
        letters.forEach(({ source, reason }) =>
          copies.push([`${source.topic}/${source.partition}/${source.offset}`, reason]),
        ),
    } as unknown as DeadLetterService;
    sut = new InboundRecordService(config, log, metrics, deadLetters, ownership);
    dispatched = [];
    const append = log.append.bind(log);
    jest.spyOn(log, 'append').mockImplementation((batch, now) => {
      dispatched.push(batch);
      return append(batch, now);
    });
  };

  const subscriber = (ids: string[]): HubSubscriber => ({
    userId: 'alice',
    topicSet: bus.topicSet(['orders']),
    deliver: (_, id) => ids.push(id),
    logChanged: () => undefined,
    feedLost: () => undefined,
  });

  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((text: unknown) => {
      warnings.push(String(text));
    });
    use(testConfig());
  });

  afterEach(() => jest.restoreAllMocks());

  it('should hand the valid records of a batch to the bus at once, parsed, at their positions', async () => {
    sut.takeBatch(
      batchOf([
        message({ type: 'order.created', data: { id: 7 }, userId: 'alice' }, 42),
        message('not json', 43),
        message({ type: 't', data: null, broadcast: true }, 44),
      ]),
    );

    expect(dispatched).toHaveLength(1);
    expect(dispatched[0]).toMatchObject({ topic: 'orders', partition: 1, next: 45, fetchedOffset: 0 });
    expect(dispatched[0]!.records).toEqual([
      {
        topic: 'orders',
        partition: 1,
        offset: 42,
        type: 'order.created',
        data: '{"id":7}',
        audience: { kind: 'user', userId: 'alice' },
        timestamp: 1_700_000_000_000,
      },
      expect.objectContaining({ offset: 44, audience: { kind: 'broadcast' }, data: 'null' }),
    ]);
    expect(await counted(metrics, 'kafka_records_consumed_total', 'topic')).toEqual(new Map([['orders', 3]]));
  });

  it('should reach the streams, with ids past each event', () => {
    const ids: string[] = [];
    bus.subscribe(subscriber(ids));

    sut.takeBatch(batchOf([message({ type: 't', data: 1, userIds: ['bob', 'alice'] }, 42)]));

    expect(ids.map((id) => id.split(';')[0])).toEqual(['orders/1/42']);
    expect(LogPosition.parse(ids[0]!)!.get('orders', 1)).toBe(43);
  });

  it('should skip, count and log invalid records by position and reason only, once per batch', async () => {
    sut.takeBatch(
      batchOf([
        message({ type: 'payment', data: { card: SECRET } }, 42),
        message(`{"type":"t","data":"${SECRET}"`, 43),
        message(null, 44),
      ]),
    );

    expect(dispatched[0]!.records).toEqual([]);
    expect(await counted(metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
      new Map([
        ['bad-addressing', 1],
        ['not-json', 1],
        ['tombstone', 1],
      ]),
    );
    expect(warnings).toEqual([
      'Skipped invalid records of orders/1: bad-addressing at 42; not-json at 43; tombstone at 44',
    ]);
    expect(warnings.join()).not.toContain(SECRET);
  });

  it('should move the resume point past invalid records', () => {
    sut.takeBatch(batchOf([message(null, 7)]));

    expect(log.position(['orders']).get('orders', 1)).toBe(8);
  });

  it('should refuse a record over the configured size', async () => {
    use(testConfig({ KAFKA_MAX_RECORD_BYTES: '64' }));

    sut.takeBatch(batchOf([message({ type: 't', data: 'x'.repeat(64), broadcast: true }, 0)]));

    expect(await counted(metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
      new Map([['too-large', 1]]),
    );
  });

  it('should copy invalid records to the dead-letter topic, but not those re-read while warming up', () => {
    log.startPartition('alerts', 0, 0, 10);

    sut.takeBatch(batchOf([message('nope', 9), message('nope', 10)], { topic: 'alerts', partition: 0 }));

    expect(copies).toEqual([['alerts/0/10', 'not-json']]);
  });

  it('should count, log and dead-letter a skipped batch by the one record that stands for it', async () => {
    const marker = message(null, 20, {
      [SKIPPED_BATCH_HEADER]: Buffer.from('too-many-records'),
      [SKIPPED_FROM_HEADER]: Buffer.from('5'),
      [SKIPPED_COUNT_HEADER]: Buffer.from('650000'),
    });

    sut.takeBatch(batchOf([marker]));

    expect(await counted(metrics, 'kafka_batches_skipped_total', 'reason')).toEqual(
      new Map([['too-many-records', 1]]),
    );
    expect((await counted(metrics, 'kafka_records_invalid_total', 'reason')).size).toBe(0);
    expect(warnings).toEqual([
      'Skipped a batch of 650000 records of orders/1 at offsets 5 to 20: too-many-records',
    ]);
    expect(copies).toEqual([['orders/1/20', 'too-many-records']]);
    expect(log.position(['orders']).get('orders', 1)).toBe(21);
  });

  it('should not hand a redelivered record to the streams twice', () => {
    const ids: string[] = [];
    bus.subscribe(subscriber(ids));
    const value = { type: 't', data: 1, userId: 'alice' };

    sut.takeBatch(batchOf([message(value, 0)]));
    // Fetched again from where the first fetch started, as after a rebalance.
    sut.takeBatch(batchOf([message(value, 0)], { fetchedOffset: 0, highWatermark: 1 }));

    expect(ids).toHaveLength(1);
  });

  describe('in partition-owner mode', () => {
    beforeEach(() => {
      const config = testConfig({
        KAFKA_CONSUMPTION: 'partition-owner',
        KAFKA_BROADCAST_TOPICS: 'alerts',
        GATEWAY_NODE_NAME: 'gw-1',
      });
      const ownership = new PartitionOwnershipService(
        config.ownership!,
        new OwnershipMetrics(new Registry()),
      );
      ownership.setPartitionCount(3);
      ownership.setOwners(['gw-1', 'gw-1', 'gw-1']);
      use(config, ownership);
    });

    /** A user id keyed to `partition` of 3. */
    const userOn = (partition: number, prefix = 'user'): string => {
      const ownership = new PartitionOwnershipService(
        testConfig({ KAFKA_CONSUMPTION: 'partition-owner' }).ownership!,
        new OwnershipMetrics(new Registry()),
      );
      ownership.setPartitionCount(3);
      for (let i = 0; ; i++)
        if (ownership.partitionOf(`${prefix}-${i}`) === partition) return `${prefix}-${i}`;
    };

    it("should skip, count and dead-letter records of a keyed topic that are not on their users' partition", async () => {
      const here = userOn(1);
      sut.takeBatch(
        batchOf([
          message({ type: 't', data: 1, userId: here }, 0),
          message({ type: 't', data: 2, userId: userOn(2) }, 1),
          message({ type: 't', data: 3, userIds: [here, userOn(1, 'also')] }, 2),
          message({ type: 't', data: 4, userIds: [here, userOn(0)] }, 3),
          message({ type: 't', data: 5, broadcast: true }, 4),
        ]),
      );

      expect(dispatched[0]!.records.map((event) => event.offset)).toEqual([0, 2]);
      expect(await counted(metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
        new Map([['misrouted', 3]]),
      );
      expect(copies).toEqual([
        ['orders/1/1', 'misrouted'],
        ['orders/1/3', 'misrouted'],
        ['orders/1/4', 'misrouted'],
      ]);
    });

    it('should take any addressing on a broadcast topic, which every instance reads whole', () => {
      sut.takeBatch(
        batchOf(
          [
            message({ type: 't', data: 1, userId: userOn(2) }, 0),
            message({ type: 't', data: 2, broadcast: true }, 1),
          ],
          { topic: 'alerts', partition: 0 },
        ),
      );

      expect(dispatched[0]!.records).toHaveLength(2);
    });
  });
});
