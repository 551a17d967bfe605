import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import { parseGatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import type { GatewayEvent, RecordPosition } from '../event-bus/gateway-event.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ConsumerStateService } from './consumer-state.service.js';
import { InboundRecordService, type InboundRecord } from './inbound-record.service.js';

const SECRET = 'card-4111-1111-1111-1111';
const TIMESTAMP = '1700000000000';

function config(overrides: Record<string, string> = {}): GatewayConfig {
  return parseGatewayConfig({
    KAFKA_BROKERS: 'k:9092',
    JWT_SECRET: 'x'.repeat(32),
    KAFKA_TOPICS: 'orders,chat',
    ...overrides,
  });
}

function record(value: unknown, overrides: Partial<InboundRecord> = {}): InboundRecord {
  return {
    topic: 'orders',
    partition: 1,
    offset: '42',
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    timestamp: TIMESTAMP,
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

/** The service over a real bus and consumer state, with spies that let the real methods run. */
function build(gatewayConfig: GatewayConfig) {
  const bus = new EventBusService(gatewayConfig);
  const consumer = new ConsumerStateService();
  const metrics = new MetricsService();
  return {
    sut: new InboundRecordService(gatewayConfig, bus, consumer, metrics),
    bus,
    metrics,
    publish: jest.spyOn(bus, 'publish'),
    skip: jest.spyOn(bus, 'skip'),
    reached: jest.spyOn(consumer, 'reached'),
  };
}

describe(InboundRecordService.name, () => {
  let sut: InboundRecordService;
  let bus: EventBusService;
  let spies: ReturnType<typeof build>;
  let warnings: string[];

  const published = (): GatewayEvent[] => spies.publish.mock.calls.map(([event]) => event);
  const skipped = (): RecordPosition[] => spies.skip.mock.calls.map(([position]) => position);
  const reached = (): Array<[string, number, bigint]> => spies.reached.mock.calls;

  const use = (gatewayConfig: GatewayConfig): void => {
    spies = build(gatewayConfig);
    ({ sut, bus } = spies);
  };

  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    use(config());
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('a valid record', () => {
    it('should publish the parsed content at its position, with a numeric timestamp', async () => {
      sut.take(record({ type: 'order.created', data: { id: 7 }, userId: 'alice' }));

      expect(published()).toEqual<GatewayEvent[]>([
        {
          topic: 'orders',
          partition: 1,
          offset: 42n,
          type: 'order.created',
          data: '{"id":7}',
          audience: { kind: 'user', userId: 'alice' },
          timestamp: 1_700_000_000_000,
        },
      ]);
      expect(skipped()).toEqual([]);
      expect(warnings).toEqual([]);
      expect((await counted(spies.metrics, 'kafka_records_invalid_total', 'reason')).size).toBe(0);
    });

    it('should reach the streams on the bus', () => {
      const ids: string[] = [];
      bus.subscribe({ userId: 'alice', topics: ['orders'], deliver: (_, id) => ids.push(id) });

      sut.take(record({ type: 'order.created', data: 1, userIds: ['bob', 'alice'] }));

      expect(ids).toEqual(['orders/1/42;orders:.43']);
    });

    it('should read offsets beyond the safe integer range exactly', () => {
      sut.take(record({ type: 't', data: 1, broadcast: true }, { offset: '9007199254740993' }));

      expect(published()[0]?.offset).toBe(9007199254740993n);
      expect(reached()).toEqual([['orders', 1, 9007199254740994n]]);
    });

    it('should tell the consumer state that processing reached the next offset', () => {
      sut.take(record({ type: 't', data: 1, broadcast: true }));

      expect(reached()).toEqual([['orders', 1, 43n]]);
    });
  });

  describe('an invalid record', () => {
    it('should skip it on the bus, count its reason and log it without its payload', async () => {
      sut.take(record({ type: 'payment', data: { card: SECRET } }));

      expect(published()).toEqual([]);
      expect(skipped()).toEqual([{ topic: 'orders', partition: 1, offset: 42n }]);
      expect(await counted(spies.metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
        new Map([['bad-addressing', 1]]),
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('orders/1/42');
      expect(warnings[0]).toContain('bad-addressing');
      expect(warnings[0]).not.toContain(SECRET);
      expect(warnings[0]).not.toContain('payment');
    });

    it('should not log the text of a record that is not JSON', async () => {
      sut.take(record(`{"type":"t","data":"${SECRET}"`));

      expect(await counted(spies.metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
        new Map([['not-json', 1]]),
      );
      expect(warnings).toEqual(['Skipped invalid record orders/1/42: not-json']);
    });

    it('should move the checkpoint past it', async () => {
      sut.take(record(null, { offset: '7' }));

      expect(bus.checkpoint(['orders'])).toBe('orders:.8');
      expect(await counted(spies.metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
        new Map([['tombstone', 1]]),
      );
    });

    it('should reject a record over the configured size', async () => {
      use(config({ KAFKA_MAX_RECORD_BYTES: '64' }));

      sut.take(record({ type: 't', data: 'x'.repeat(64), broadcast: true }));

      expect(published()).toEqual([]);
      expect(await counted(spies.metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
        new Map([['too-large', 1]]),
      );
    });

    it('should still tell the consumer state that processing reached the next offset', () => {
      sut.take(record('not json', { topic: 'chat', partition: 0, offset: '99' }));

      expect(reached()).toEqual([['chat', 0, 100n]]);
    });
  });

  describe('counts', () => {
    it('should count consumed records per topic, valid or not, and invalid ones per reason', async () => {
      const valid = { type: 't', data: 1, broadcast: true };
      sut.take(record(valid, { offset: '1' }));
      sut.take(record('nope', { offset: '2' }));
      sut.take(record(valid, { topic: 'chat', partition: 0, offset: '1' }));
      sut.take(record(null, { offset: '3' }));
      sut.take(record('{', { offset: '4' }));

      expect(await counted(spies.metrics, 'kafka_records_consumed_total', 'topic')).toEqual(
        new Map([
          ['orders', 4],
          ['chat', 1],
        ]),
      );
      expect(await counted(spies.metrics, 'kafka_records_invalid_total', 'reason')).toEqual(
        new Map([
          ['not-json', 2],
          ['tombstone', 1],
        ]),
      );
      expect(published().map((event) => `${event.topic}/${event.offset}`)).toEqual(['orders/1', 'chat/1']);
      expect(reached().map(([, , next]) => next)).toEqual([2n, 3n, 2n, 4n, 5n]);
    });

    it('should count a redelivered record as consumed again without publishing it twice', async () => {
      const ids: string[] = [];
      bus.subscribe({ userId: 'alice', topics: ['orders'], deliver: (_, id) => ids.push(id) });
      const value = { type: 't', data: 1, userId: 'alice' };

      sut.take(record(value));
      sut.take(record(value));

      expect(await counted(spies.metrics, 'kafka_records_consumed_total', 'topic')).toEqual(
        new Map([['orders', 2]]),
      );
      expect(ids).toHaveLength(1);
    });
  });
});
