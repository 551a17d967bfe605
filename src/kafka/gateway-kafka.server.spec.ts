import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { PartitionLogService } from '../log/partition-log.service.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { EveryInstance } from '../ownership/ownership.js';
import { newLog, testConfig } from '../testing/fixtures.js';
import { KAFKA_RECORD_BATCH, type ConsumedBatch } from './consumed-batch.js';
import { ConsumerHealthService } from './consumer-health.service.js';
import { GatewayKafkaServer } from './gateway-kafka.server.js';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  REBALANCING: 'consumer.rebalancing',
  CRASH: 'consumer.crash',
} as const;

type Listener = (event: { payload: Record<string, unknown> }) => void;

/** A kafkajs consumer as far as the transport uses it; the spec plays the broker. */
class FakeConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, Listener[]>();
  readonly seeks: string[] = [];
  eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  disconnected = false;
  pause = (): void => undefined;
  resume = (): void => undefined;

  constructor(readonly options: Record<string, unknown>) {}

  on(event: string, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  emit(event: string, payload: Record<string, unknown> = {}): void {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }

  connect = (): Promise<void> => Promise.resolve();
  subscribe = (): Promise<void> => Promise.resolve();
  disconnect = (): Promise<void> => {
    this.disconnected = true;
    return Promise.resolve();
  };

  run = ({ eachBatch }: { eachBatch: (payload: EachBatchPayload) => Promise<void> }): Promise<void> => {
    this.eachBatch = eachBatch;
    return Promise.resolve();
  };

  seek = ({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void => {
    this.seeks.push(`${topic}/${partition}@${offset}`);
  };

  /** One fetched batch of `orders/0`, as kafkajs hands it to eachBatch. */
  batch(fetchedOffset: number, values: string[]): Promise<void> {
    const messages = values.map((value, i): KafkaMessage => ({
      key: null,
      value: Buffer.from(value),
      offset: String(fetchedOffset + i),
      timestamp: String(Date.now()),
      attributes: 0,
      headers: {},
    }));
    const batch = {
      topic: 'orders',
      partition: 0,
      fetchedOffset: String(fetchedOffset),
      highWatermark: String(fetchedOffset + values.length),
      messages,
      lastOffset: () => String(fetchedOffset + values.length - 1),
    };
    return this.eachBatch!({
      batch,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
}

/** Window start 0 and log end 2 on every partition of every topic. */
const admin = {
  connect: () => Promise.resolve(),
  disconnect: () => Promise.resolve(),
  listTopics: () => Promise.resolve(['orders', 'chat', 'alerts']),
  fetchTopicOffsetsByTimestamp: () => Promise.resolve([{ partition: 0, offset: '0' }]),
  fetchTopicOffsets: () => Promise.resolve([{ partition: 0, offset: '2', high: '2', low: '0' }]),
};

describe(GatewayKafkaServer.name, () => {
  const config = testConfig({ KAFKA_RECOVERY_TIMEOUT_MS: '5000' });
  let sut: GatewayKafkaServer;
  let log: PartitionLogService;
  let metrics: MetricsService;
  let health: ConsumerHealthService;
  let consumers: FakeConsumer[];
  let handled: ConsumedBatch[];
  let handler: (batch: ConsumedBatch) => void;

  /** The live consumer, not the history reader's. */
  const consumer = (): FakeConsumer =>
    consumers.filter((made) => !String(made.options['groupId']).endsWith('.history')).at(-1)!;

  beforeEach(async () => {
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    ({ log, metrics } = newLog([], config));
    health = new ConsumerHealthService();
    consumers = [];
    handled = [];
    handler = (batch) => handled.push(batch);
    const kafka = {
      admin: () => admin,
      consumer: (options: Record<string, unknown>) => {
        const made = new FakeConsumer(options);
        consumers.push(made);
        return made;
      },
    } as unknown as Kafka;
    sut = new GatewayKafkaServer(
      config,
      log,
      health,
      metrics,
      new EveryInstance(config.kafka.topics),
      new EveryInstance(config.kafka.topics),
      () => kafka,
    );
    sut.addHandler(KAFKA_RECORD_BATCH, (batch: ConsumedBatch) => Promise.resolve(handler(batch)), true);
    await new Promise<void>((done, fail) => {
      void sut.listen((err) => (err instanceof Error ? fail(err) : done()));
    });
  });

  afterEach(async () => {
    await sut.close();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('should start every partition at the replay window, and on join seek it to where processing stands', () => {
    expect([log.nextOffset('orders', 0), log.liveFromOf('orders', 0)]).toEqual([0, 2]);
    log.advanceTo('orders', 0, 7);

    consumer().emit(EVENTS.GROUP_JOIN, { memberAssignment: { orders: [0], chat: [3] } });

    expect(consumer().seeks).toEqual(['orders/0@7']);
    expect(consumer().options).toMatchObject({
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
    });
  });

  it('should hand each batch to the bound handler as one batch of its partition', async () => {
    await consumer().batch(0, ['a', 'b']);

    expect(handled).toHaveLength(1);
    expect(handled[0]).toMatchObject({
      topic: 'orders',
      partition: 0,
      fetchedOffset: 0,
      next: 2,
      offsetReset: false,
    });
    expect(handled[0]!.records.map((record) => record.value?.toString())).toEqual(['a', 'b']);
  });

  it('should skip a batch whose handler throws, moving the log past it, never throwing back to kafkajs', async () => {
    handler = () => {
      throw new Error('a bug');
    };

    await expect(consumer().batch(0, ['a', 'b', 'c'])).resolves.toBeUndefined();

    expect(log.nextOffset('orders', 0)).toBe(3);
  });

  it('should send streams elsewhere while a crashed consumer is replaced, until the replacement fetches', async () => {
    consumer().emit(EVENTS.GROUP_JOIN, { memberAssignment: {} });
    consumer().emit(EVENTS.FETCH);

    consumer().emit(EVENTS.CRASH, { error: new Error('not authorised') });
    expect(log.available).toBe(false);
    await jest.advanceTimersByTimeAsync(250);

    const live = consumers.filter((made) => !String(made.options['groupId']).endsWith('.history'));
    expect(live).toHaveLength(2);
    expect(live[0]!.disconnected).toBe(true);
    consumer().emit(EVENTS.GROUP_JOIN, { memberAssignment: {} });
    expect(log.available).toBe(false);
    consumer().emit(EVENTS.FETCH);
    expect(log.available).toBe(true);
    expect(health.recovering).toBe(false);
  });

  it('should stay ready while its group rebalances, which in partition-owner mode every instance does at once', () => {
    consumer().emit(EVENTS.GROUP_JOIN, { memberAssignment: {} });
    consumer().emit(EVENTS.FETCH);
    for (const topic of config.kafka.topics) health.reached(topic, 0, 2);

    consumer().emit(EVENTS.REBALANCING);

    expect(health.readiness()).toEqual({ ready: true, reasons: [] });
  });

  it('should keep streams where they are when the broker is only out of reach', () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' });

    consumer().emit(EVENTS.CRASH, { error: unreachable });

    expect(log.available).toBe(true);
    expect(health.readiness().ready).toBe(false);
  });

  it('should fail liveness when replacements keep joining and stopping for longer than the recovery timeout', async () => {
    for (let second = 0; second < 8; second++) {
      consumer().emit(EVENTS.CRASH, { error: new RangeError('Maximum call stack size exceeded') });
      await jest.advanceTimersByTimeAsync(1000);
      consumer().emit(EVENTS.GROUP_JOIN, { memberAssignment: {} });
    }

    expect(health.liveness().ready).toBe(false);
  });
});
