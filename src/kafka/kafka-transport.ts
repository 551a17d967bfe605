import type { INestApplication } from '@nestjs/common';
import { KafkaParser, ServerKafka, type KafkaOptions } from '@nestjs/microservices';
import type { Consumer } from '@nestjs/microservices/external/kafka.interface.js';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ConsumerStateService } from './consumer-state.service.js';
import { instanceGroupId, kafkaClientConfig } from './kafka-client.config.js';
import { listenToTopics } from './kafka-record.controller.js';

/** How long a fetch waits for records; an idle consumer still fetches this often. */
const FETCH_MAX_WAIT_MS = 1000;

/**
 * Nest's Kafka transport, plus what the gateway needs to know of its consumer. As this instance
 * commits no offsets, a consumer that rejoins its group (after a rebalance or a broker restart)
 * would start from the latest offset and skip records, so on every join it seeks each partition to
 * where processing stands.
 */
export class GatewayKafkaServer extends ServerKafka {
  private readonly handlers = new Map<string, ReturnType<ServerKafka['getHandlerByPattern']>>();

  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly bus: EventBusService,
    private readonly state: ConsumerStateService,
    private readonly metrics: MetricsService,
  ) {
    super(options);
    this.parser = new RawKafkaParser();
  }

  /**
   * Nest resolves a record's handler by JSON-parsing its topic name, which throws and catches for
   * every record (15% of the CPU of targeted delivery in the benchmark); topics are few, so the
   * answer is kept per topic.
   */
  override getHandlerByPattern(pattern: string): ReturnType<ServerKafka['getHandlerByPattern']> {
    let handler = this.handlers.get(pattern);
    if (handler === undefined) {
      handler = super.getHandlerByPattern(pattern);
      this.handlers.set(pattern, handler);
    }
    return handler;
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    const { events } = consumer;
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const offset = this.bus.nextOffset(topic, partition);
          if (offset !== undefined) consumer.seek({ topic, partition, offset: offset.toString() });
        }
      }
      this.state.joinedGroup();
    });
    consumer.on(events.FETCH, () => this.state.fetched());
    // A batch of only transaction markers moves no record through the handler, but still moves on.
    consumer.on(events.END_BATCH_PROCESS, ({ payload }) => {
      this.state.reached(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
      this.metrics.lag(payload.topic, payload.partition, Number(payload.offsetLag));
    });
    consumer.on(events.REBALANCING, () => this.state.lost('rebalancing'));
    consumer.on(events.CRASH, ({ payload }) => this.state.lost(`crashed: ${payload.error.message}`));
    consumer.on(events.DISCONNECT, () => this.state.lost('disconnected'));
    consumer.on(events.STOP, () => this.state.lost('stopped'));
    await super.bindEvents(consumer);
  }
}

/**
 * Hands records over as kafkajs read them: values, keys and headers stay Buffers. Nest's parser
 * would decode keys and headers (and JSON-parse some), and a dead-letter copy must be exact.
 */
class RawKafkaParser extends KafkaParser {
  override parse<T>(data: unknown): T {
    const message = data as { headers?: Record<string, unknown> };
    // A copy, as Nest's parser makes: kafkajs retries with the original message.
    return { ...message, headers: { ...message.headers } } as T;
  }
}

/**
 * Attaches the Kafka consumer to the HTTP app. Consumption starts `REPLAY_WINDOW_MS` back, so the
 * replay buffer is warm once the consumer has caught up with the log as it was at start-up.
 */
export async function connectKafkaTransport(app: INestApplication, now = Date.now()): Promise<void> {
  const config = app.get<GatewayConfig>(gatewayConfig.KEY);
  const bus = app.get(EventBusService);
  const state = app.get(ConsumerStateService);
  const metrics = app.get(MetricsService);
  listenToTopics(config.kafka.topics);
  for (const { topic, partition, start, end } of await partitionRanges(
    config.kafka,
    now - config.replay.windowMs,
  )) {
    bus.startAt(topic, partition, start, end);
    state.expectEnd(topic, partition, start, end);
  }
  const options: Required<KafkaOptions>['options'] = {
    client: kafkaClientConfig(config.kafka),
    consumer: {
      groupId: instanceGroupId(config.kafka.groupPrefix),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
    },
    producer: { createPartitioner: Partitioners.DefaultPartitioner },
    subscribe: { fromBeginning: false },
    run: { autoCommit: false },
    // Group ids are chosen on purpose (see instanceGroupId); no "-server" suffix.
    postfixId: '',
  };
  app.connectMicroservice(
    { strategy: new GatewayKafkaServer(options, bus, state, metrics) },
    { inheritAppConfig: true },
  );
}

interface PartitionRange {
  topic: string;
  partition: number;
  /** The first offset at or after the window's start time. */
  start: bigint;
  /** The log end offset now. */
  end: bigint;
}

async function partitionRanges(kafka: GatewayConfig['kafka'], since: number): Promise<PartitionRange[]> {
  const admin = new Kafka({ ...kafkaClientConfig(kafka), logLevel: logLevel.WARN }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = kafka.topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      throw new Error(
        `KAFKA_TOPICS names topics that do not exist in Kafka: ${missing.join(', ')}. Create them first.`,
      );
    }
    const perTopic = await Promise.all(
      kafka.topics.map(async (topic) => {
        const [starts, ends] = await Promise.all([
          admin.fetchTopicOffsetsByTimestamp(topic, since),
          admin.fetchTopicOffsets(topic),
        ]);
        return starts.map(({ partition, offset }) => ({
          topic,
          partition,
          start: BigInt(offset),
          end: BigInt(ends.find((end) => end.partition === partition)?.high ?? offset),
        }));
      }),
    );
    return perTopic.flat();
  } finally {
    await admin.disconnect();
  }
}
