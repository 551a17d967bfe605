import { Inject, Injectable } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { Kafka, type Admin, type Consumer, type EachBatchPayload, type KafkaConfig } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { PARTITION_LOG, type PartitionLog } from '../log/partition-log.js';
import { MetricsService } from '../metrics/metrics.service.js';
import {
  CONSUMER_MEMBERSHIP,
  OWNERSHIP,
  type ConsumerMembership,
  type Ownership,
} from '../ownership/ownership.js';
import { registerCompressionCodecs } from './compression-codecs.js';
import { KAFKA_RECORD_BATCH, KafkaBatchContext, type ConsumedBatch } from './consumed-batch.js';
import { ConsumerHealthService } from './consumer-health.service.js';
import { ConsumerReplacer, isConnectivityError } from './consumer-replacer.js';
import { fetchDecodingProblem, limitRecordsPerFetch } from './fetch-decoding.patch.js';
import './request-queue.patch.js';
import { KafkaHistoryReader } from './history-reader.js';
import { PositionsTopic } from './positions-topic.js';
import { instanceGroupId, kafkaClientConfig } from './kafka-client.config.js';
import { describeError, LogWatch } from './log-watch.js';
import { StartPositions } from './start-positions.js';

/** How the transport makes its Kafka client; a unit spec gives a fake one. */
export const KAFKA_CLIENT_FACTORY = Symbol('KafkaClientFactory');
export type KafkaClientFactory = (config: KafkaConfig) => Kafka;
export const createKafkaClient: KafkaClientFactory = (config) => new Kafka(config);

/** How long a fetch waits for records; an idle consumer still fetches this often. */
const FETCH_MAX_WAIT_MS = 1000;
/** A consumer whose process died is out of its group after this long. */
const SESSION_TIMEOUT_MS = 10_000;
/**
 * What one fetch may bring of one partition: the broker's default largest batch
 * (`max.message.bytes`); a larger batch still comes whole (Kafka returns the first batch of a
 * partition whatever its size). A fetch brings at most MAX_FETCH_BYTES, whatever the partition
 * count: each of its batches inflates to at most KAFKA_MAX_DECOMPRESSED_BYTES, and is decoded to
 * at most KAFKA_MAX_BATCH_RECORDS records per partition.
 */
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
const MAX_FETCH_BYTES = 8 * 1024 * 1024;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * The gateway's Nest transport: a kafkajs consumer whose batches reach the handler bound to
 * KAFKA_RECORD_BATCH by `@EventPattern`, one batch at a time, handled in one synchronous pass
 * instead of one promise chain per record. It owns the consumer's life; the policies around it
 * are collaborators: where partitions start (StartPositions), which group it joins and which
 * partitions it reads (ConsumerMembership), the log watch (LogWatch), and replacing a consumer
 * that stops (ConsumerReplacer): a crash, lost authorisation, anything but an unreachable broker
 * sends the instance's streams elsewhere until a replacement fetches, in a new group at once (the
 * broker would keep the old member for its session timeout). If none fetches within
 * KAFKA_RECOVERY_TIMEOUT_MS of the first stop, liveness fails.
 */
@Injectable()
export class GatewayKafkaServer extends Server implements CustomTransportStrategy {
  private kafka: Kafka | undefined;
  private admin: Admin | undefined;
  private current: Consumer | undefined;
  private batchHandler: MessageHandler | undefined;
  private watch: LogWatch | undefined;
  private history: KafkaHistoryReader | undefined;
  private journal: PositionsTopic | undefined;
  /** Partitions whose fetch position kafkajs moved since their last batch (`topic/partition`). */
  private readonly offsetResets = new Set<string>();
  /** The configured topic names, so every event shares one string per topic. */
  private readonly topicNames: Map<string, string>;
  private readonly positions: StartPositions;
  private readonly replacer: ConsumerReplacer;
  private closing = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(PARTITION_LOG) private readonly log: PartitionLog,
    private readonly health: ConsumerHealthService,
    private readonly metrics: MetricsService,
    @Inject(CONSUMER_MEMBERSHIP) private readonly membership: ConsumerMembership,
    @Inject(OWNERSHIP) private readonly ownership: Ownership,
    @Inject(KAFKA_CLIENT_FACTORY) private readonly createKafka: KafkaClientFactory,
  ) {
    super();
    this.topicNames = new Map(config.kafka.topics.map((topic) => [topic, topic]));
    this.positions = new StartPositions(log, health, config.replay.windowMs);
    this.replacer = new ConsumerReplacer(
      {
        restart: () => this.restartConsumer(),
        restarted: (cause) => this.metrics.consumerRestarted(cause),
        overdue: (reason) => this.health.checkRecovery(config.kafka.recoveryTimeoutMs, reason),
        warn: (message) => {
          this.logger.warn(message);
        },
      },
      { firstMs: FIRST_RETRY_MS, maxMs: MAX_RETRY_MS },
    );
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      if (fetchDecodingProblem) throw new Error(fetchDecodingProblem);
      const { kafka } = this.config;
      registerCompressionCodecs(kafka.maxDecompressedBytes);
      limitRecordsPerFetch(kafka.maxBatchRecords);
      this.batchHandler = this.getHandlerByPattern(KAFKA_RECORD_BATCH) ?? undefined;
      if (!this.batchHandler) throw new Error(`No handler is bound to ${KAFKA_RECORD_BATCH}`);
      this.kafka = this.createKafka(
        kafkaClientConfig(kafka, {
          offsetReset: (topic, partition) => this.offsetResets.add(`${topic}/${partition}`),
        }),
      );
      this.admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 250 } });
      await this.admin.connect();
      await this.membership.prepare(this.admin);
      await this.positions.fromWindow(this.admin, kafka.topics, this.membership.windowTopics);
      await this.startConsumer();
      this.watch = new LogWatch({
        admin: this.admin,
        log: this.log,
        health: this.health,
        membership: this.membership,
        topics: kafka.topics,
        intervalMs: kafka.metadataRefreshMs,
        recoveryTimeoutMs: kafka.recoveryTimeoutMs,
        logger: this.logger,
      });
      this.watch.start();
      this.history = new KafkaHistoryReader({
        kafka: this.kafka,
        topics: kafka.topics,
        groupPrefix: kafka.groupPrefix,
        maxRecordBytes: kafka.maxRecordBytes,
        log: this.log,
        ownership: this.ownership,
        logger: this.logger,
      });
      this.log.readHistoryWith(this.history);
      this.journal = new PositionsTopic({
        kafka: this.kafka,
        topic: kafka.positionsTopic,
        groupPrefix: kafka.groupPrefix,
        log: this.log,
        logger: this.logger,
      });
      await this.journal.start(this.admin);
      // Catch-ups asked for before it has joined its group are read once it has.
      this.history.start().catch((err: unknown) => {
        this.logger.error(`The history reader could not start: ${describeError(err)}`);
      });
      callback();
    } catch (err) {
      callback(err);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.membership.close();
    this.watch?.stop();
    this.replacer.close();
    await this.history?.close();
    await this.journal?.close();
    await this.current?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.current = undefined;
  }

  on(): never {
    throw new Error('The gateway Kafka transport has no events to listen to');
  }

  unwrap<T>(): T {
    if (!this.kafka) throw new Error('The Kafka transport is not listening yet');
    return [this.kafka, this.current] as T;
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka!.consumer({
      groupId: instanceGroupId(this.config.kafka.groupPrefix),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      maxBytes: MAX_FETCH_BYTES,
      sessionTimeout: SESSION_TIMEOUT_MS,
      metadataMaxAge: this.config.kafka.metadataRefreshMs,
      // This transport replaces a stopped consumer itself, with a group of its own.
      retry: {
        ...kafkaClientConfig(this.config.kafka).retry,
        restartOnFailure: () => Promise.resolve(false),
      },
      ...this.membership.consumerOptions(),
    });
    this.current = consumer;
    this.follow(consumer);
    await consumer.connect();
    // Known partitions are moved to where processing stands on join; others start at their beginning.
    await consumer.subscribe({ topics: this.config.kafka.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: (payload) => this.onBatch(consumer, payload),
    });
  }

  private follow(consumer: Consumer): void {
    const { events } = consumer;
    const mine = (): boolean => consumer === this.current && !this.closing;
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      if (!mine()) return;
      this.membership.joined(consumer, payload.memberAssignment);
      this.positions.seekOnJoin(consumer, payload.memberAssignment);
      this.health.joinedGroup();
    });
    // A replacement has recovered once it fetches: one that joins and stops again on the same
    // batch has not, and must not bring streams back or hold off the recovery deadline.
    consumer.on(events.FETCH, () => {
      if (!mine()) return;
      if (this.health.recovering) this.log.feedRestored();
      this.health.fetched();
    });
    // A batch of only transaction markers moves no record through the handler, but still moves on.
    consumer.on(events.END_BATCH_PROCESS, ({ payload }) => {
      if (!mine() || !this.membership.reads(payload.topic, payload.partition)) return;
      const next = Number(payload.lastOffset) + 1;
      this.log.advanceTo(payload.topic, payload.partition, next);
      this.health.reached(payload.topic, payload.partition, next);
      this.membership.reached(payload.topic, payload.partition, next);
      this.metrics.lag(payload.topic, payload.partition, Number(payload.offsetLag));
    });
    // Not a reason to fail readiness: in partition-owner mode every instance rebalances at once.
    consumer.on(events.REBALANCING, () => mine() && this.membership.rebalancing());
    consumer.on(events.CRASH, ({ payload }) => this.stopped(consumer, payload.error));
  }

  private async onBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // A batch fetched before a rebalance's seek must not move positions backwards or forwards.
    if (consumer !== this.current || !payload.isRunning() || payload.isStale()) return;
    if (!this.membership.reads(batch.topic, batch.partition)) return;
    const where = `${batch.topic}/${batch.partition}`;
    const consumed: ConsumedBatch = {
      topic: this.topicNames.get(batch.topic) ?? batch.topic,
      partition: batch.partition,
      // kafkajs's Batch has it, its typings do not.
      fetchedOffset: Number((batch as typeof batch & { fetchedOffset: string }).fetchedOffset),
      highWatermark: Number(batch.highWatermark),
      offsetReset: this.offsetResets.delete(where),
      next: Number(batch.lastOffset()) + 1,
      records: batch.messages,
    };
    try {
      await this.handle(consumed, new KafkaBatchContext([consumed, consumer]));
    } catch (err) {
      // Never thrown back to kafkajs, which would fetch the same batch again, forever.
      this.logger.error(`Skipped batch ${where} up to offset ${consumed.next - 1}: ${describeError(err)}`);
      this.log.advanceTo(consumed.topic, consumed.partition, consumed.next);
    }
  }

  /** The handler, inside Nest's processing hooks (tracing), as any event's. */
  private handle(batch: ConsumedBatch, context: KafkaBatchContext): Promise<void> {
    return new Promise<void>((settle, fail) => {
      this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          const result: unknown = await this.batchHandler!(batch, context);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          settle();
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
        } finally {
          runEndHook();
        }
      });
    });
  }

  /** The consumer stopped: readiness fails at once, and a new consumer takes over. */
  private stopped(consumer: Consumer, error: Error): void {
    if (consumer !== this.current || this.closing) return;
    const reason = describeError(error);
    this.health.broken(reason);
    // A broker out of reach is everyone's problem; anything else is this instance's.
    if (!isConnectivityError(error)) this.log.feedLost(reason);
    this.logger.error(`The Kafka consumer stopped (${reason}); replacing it`);
    this.health.checkRecovery(this.config.kafka.recoveryTimeoutMs);
    this.replacer.request(isConnectivityError(error) ? 'unreachable' : 'error');
  }

  private async restartConsumer(): Promise<void> {
    const old = this.current;
    this.current = undefined;
    await old?.disconnect().catch(() => undefined);
    await this.startConsumer();
  }
}
