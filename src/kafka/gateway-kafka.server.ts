import { Inject, Injectable } from '@nestjs/common';
import { ServerKafka, type MessageHandler } from '@nestjs/microservices';
import { Kafka, type Admin, type Consumer, type EachBatchPayload } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { OwnershipService } from '../event-bus/ownership.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { registerCompressionCodecs } from './compression-codecs.js';
import { KAFKA_RECORD_BATCH, KafkaBatchContext, type ConsumedBatch } from './consumed-batch.js';
import { ConsumerHealthService } from './consumer-health.service.js';
import { ConsumerReplacer } from './consumer-replacer.js';
import { fetchDecodingProblem, limitRecordsPerFetch } from './fetch-decoding.patch.js';
import { instanceGroupId, kafkaClientConfig } from './kafka-client.config.js';
import { OwnerGroup } from './owner-group.js';

/** How long a fetch waits for records; an idle consumer still fetches this often. */
const FETCH_MAX_WAIT_MS = 1000;
/** A consumer whose process died is out of its group after this long. */
const SESSION_TIMEOUT_MS = 10_000;
/**
 * What one fetch may bring of one partition: the broker's default largest batch
 * (`max.message.bytes`), which a batch larger than this still comes whole (Kafka returns the
 * first batch of a partition whatever its size). A fetch brings at most MAX_FETCH_BYTES, whatever
 * the partition count: each of its batches inflates to at most KAFKA_MAX_DECOMPRESSED_BYTES and
 * is decoded to at most KAFKA_MAX_BATCH_RECORDS records per partition.
 */
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
const MAX_FETCH_BYTES = 8 * 1024 * 1024;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/** Errors of a broker that cannot be reached: every instance has them, so streams stay put. */
const CONNECTIVITY_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);

/**
 * Nest's Kafka transport, reading batches. Records reach the handler bound to
 * KAFKA_RECORD_BATCH by `@EventPattern` one batch at a time, handled in one synchronous pass,
 * instead of one promise chain per record. Besides, it owns the consumer's life:
 *
 * - it starts consumption `REPLAY_WINDOW_MS` back (offsets by timestamp), so the replay store is
 *   warm once it has caught up with the log as it was at start-up;
 * - as the instance commits no offsets, on every group join it seeks each partition to where
 *   processing stands; a partition it does not know (one added at run time) starts at its
 *   beginning, so none of its records is lost;
 * - a consumer that stops (a crash, lost authorisation, a record it cannot read) is replaced by a
 *   new one in a new group at once: the broker would keep the old member for its session timeout.
 *   Until then readiness fails and, unless Kafka is merely unreachable, streams are sent to other
 *   instances. If no replacement joins within KAFKA_RECOVERY_TIMEOUT_MS, liveness fails;
 * - it looks up every partition's log end every KAFKA_METADATA_REFRESH_MS, for partitions added
 *   at run time, resumes that claim positions past the log, and readiness;
 * - with KAFKA_CONSUMPTION=partition-owner, the consumer joins the one group all instances share
 *   and reads only the keyed partitions it owns, plus every broadcast partition (see OwnerGroup).
 */
@Injectable()
export class GatewayKafkaServer extends ServerKafka {
  private kafka: Kafka | undefined;
  private admin: Admin | undefined;
  private current: Consumer | undefined;
  private batchHandler: MessageHandler | undefined;
  /** Partitions whose fetch position kafkajs moved since their last batch (`topic/partition`). */
  private readonly offsetResets = new Set<string>();
  /** The configured topic names, so every event shares one string per topic. */
  private readonly topicNames: Map<string, string>;
  private readonly replacer: ConsumerReplacer;
  private closing = false;
  private logWatch: NodeJS.Timeout | undefined;
  /** Partition-owner mode only: the instance's part in the shared owner group. */
  private owner: OwnerGroup | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly bus: EventBusService,
    private readonly health: ConsumerHealthService,
    private readonly metrics: MetricsService,
    private readonly ownership: OwnershipService,
  ) {
    super({ client: kafkaClientConfig(config.kafka), postfixId: '' });
    this.topicNames = new Map(config.kafka.topics.map((topic) => [topic, topic]));
    this.replacer = new ConsumerReplacer(
      {
        restart: () => this.restartConsumer(),
        restarted: (cause) => this.metrics.consumerRestarted(cause),
        overdue: (reason) => this.health.checkRecovery(config.kafka.recoveryTimeoutMs, reason),
        warn: (message) => this.logger.warn(message),
      },
      { firstMs: FIRST_RETRY_MS, maxMs: MAX_RETRY_MS },
    );
  }

  override async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      if (fetchDecodingProblem) throw new Error(fetchDecodingProblem);
      registerCompressionCodecs(this.config.kafka.maxDecompressedBytes);
      limitRecordsPerFetch(this.config.kafka.maxBatchRecords);
      const handler = this.getHandlerByPattern(KAFKA_RECORD_BATCH);
      if (!handler) throw new Error(`No handler is bound to ${KAFKA_RECORD_BATCH}`);
      this.batchHandler = handler;
      this.kafka = new Kafka(
        kafkaClientConfig(this.config.kafka, {
          offsetReset: (topic, partition) => this.offsetResets.add(`${topic}/${partition}`),
        }),
      );
      this.admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 250 } });
      await this.admin.connect();
      if (this.config.ownership) {
        this.owner = new OwnerGroup({
          settings: this.config.ownership,
          windowMs: this.config.replay.windowMs,
          admin: this.admin,
          bus: this.bus,
          ownership: this.ownership,
        });
      }
      await this.startFromWindow();
      await this.startConsumer();
      this.scheduleLogWatch();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  override async close(): Promise<void> {
    this.closing = true;
    this.owner?.close();
    clearTimeout(this.logWatch);
    this.replacer.close();
    await this.current?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.current = undefined;
  }

  /** Registers every partition where the replay window starts, and where its log ends now. */
  private async startFromWindow(): Promise<void> {
    const admin = this.admin!;
    const { topics } = this.config.kafka;
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      throw new Error(
        `KAFKA_TOPICS names topics that do not exist in Kafka: ${missing.join(', ')}. Create them first.`,
      );
    }
    // In partition-owner mode, a keyed partition is read from the window once it is gained.
    await this.owner?.prepare();
    const since = Date.now() - this.config.replay.windowMs;
    for (const topic of this.owner?.broadcastTopics ?? topics) {
      const [starts, ends] = await Promise.all([
        admin.fetchTopicOffsetsByTimestamp(topic, since),
        admin.fetchTopicOffsets(topic),
      ]);
      for (const { partition, offset } of starts) {
        const start = Number(offset);
        const end = Number(ends.find((candidate) => candidate.partition === partition)?.high ?? offset);
        this.bus.startPartition(topic, partition, start, end);
        this.health.expectEnd(topic, partition, start, end);
      }
    }
  }

  private async startConsumer(): Promise<void> {
    const { kafka, retry } = { kafka: this.kafka!, retry: kafkaClientConfig(this.config.kafka).retry };
    const consumer = kafka.consumer({
      groupId: instanceGroupId(this.config.kafka.groupPrefix),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      maxBytes: MAX_FETCH_BYTES,
      sessionTimeout: SESSION_TIMEOUT_MS,
      metadataMaxAge: this.config.kafka.metadataRefreshMs,
      // This transport replaces a stopped consumer itself, with a group of its own.
      retry: { ...retry, restartOnFailure: () => Promise.resolve(false) },
      ...this.owner?.consumerOptions(),
    });
    this.current = consumer;
    this.watch(consumer);
    await consumer.connect();
    // Known partitions are moved to where processing stands on join; others start at their beginning.
    await consumer.subscribe({ topics: this.config.kafka.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: (payload) => this.onBatch(consumer, payload),
    });
  }

  private watch(consumer: Consumer): void {
    const { events } = consumer;
    const mine = (): boolean => consumer === this.current && !this.closing;
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      if (!mine()) return;
      this.owner?.joined(consumer, payload.memberAssignment);
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const offset = this.bus.nextOffset(topic, partition);
          if (offset !== undefined) consumer.seek({ topic, partition, offset: String(offset) });
        }
      }
      this.health.joinedGroup();
    });
    // A replacement has recovered once it fetches: one that joins and stops again on the same
    // batch has not, and must not keep streams or the recovery deadline going.
    consumer.on(events.FETCH, () => {
      if (!mine()) return;
      if (this.health.recovering) this.bus.feedRestored();
      this.health.fetched();
    });
    // A batch of only transaction markers moves no record through the handler, but still moves on.
    consumer.on(events.END_BATCH_PROCESS, ({ payload }) => {
      if (!mine() || !this.takes(payload.topic, payload.partition)) return;
      const next = Number(payload.lastOffset) + 1;
      this.bus.advanceTo(payload.topic, payload.partition, next);
      this.health.reached(payload.topic, payload.partition, next);
      this.owner?.reached(payload.topic, payload.partition, next);
      this.metrics.lag(payload.topic, payload.partition, Number(payload.offsetLag));
    });
    consumer.on(events.REBALANCING, () => {
      if (!mine()) return;
      this.health.lost('rebalancing');
      this.owner?.rebalancing();
    });
    consumer.on(events.CRASH, ({ payload }) => this.stopped(consumer, payload.error));
  }

  private async onBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // A batch fetched before a rebalance's seek must not move positions backwards or forwards.
    if (consumer !== this.current || !payload.isRunning() || payload.isStale()) return;
    if (!this.takes(batch.topic, batch.partition)) return;
    const where = `${batch.topic}/${batch.partition}`;
    const consumed: ConsumedBatch = {
      topic: this.topicNames.get(batch.topic) ?? batch.topic,
      partition: batch.partition,
      // kafkajs's Batch has it, its typings do not.
      fetchedOffset: Number((batch as typeof batch & { fetchedOffset: string }).fetchedOffset),
      highWatermark: Number(batch.highWatermark),
      lastOffset: Number(batch.lastOffset()),
      offsetReset: this.offsetResets.delete(where),
      messages: batch.messages,
    };
    const context = new KafkaBatchContext([consumed, consumer]);
    try {
      await new Promise<void>((settle, fail) => {
        // Nest's processing hooks (tracing) run around the handler as around any event's.
        this.runWithProcessingHooks(context, async (runEndHook) => {
          try {
            const result: unknown = await this.batchHandler!(consumed, context);
            if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
            settle();
          } catch (err) {
            fail(err instanceof Error ? err : new Error(String(err)));
          } finally {
            runEndHook();
          }
        });
      });
    } catch (err) {
      // Never thrown back to kafkajs, which would fetch the same batch again, forever.
      this.logger.error(`Skipped batch ${where} up to offset ${consumed.lastOffset}: ${describe(err)}`);
      this.bus.advanceTo(consumed.topic, consumed.partition, consumed.lastOffset + 1);
    }
  }

  /** The consumer stopped: readiness fails at once, and a new consumer takes over. */
  private stopped(consumer: Consumer, error: Error): void {
    if (consumer !== this.current || this.closing) return;
    const reason = describe(error);
    this.health.broken(reason);
    // A broker out of reach is everyone's problem; anything else is this instance's.
    if (!isConnectivityError(error)) this.bus.feedLost(reason);
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

  private scheduleLogWatch(): void {
    this.logWatch = setTimeout(() => {
      void this.refreshLogEnds().finally(() => {
        if (!this.closing) this.scheduleLogWatch();
      });
    }, this.config.kafka.metadataRefreshMs);
    this.logWatch.unref();
  }

  /** Every partition's log end now; a partition added at run time starts at its beginning. */
  private async refreshLogEnds(): Promise<void> {
    if (this.health.recovering) this.health.checkRecovery(this.config.kafka.recoveryTimeoutMs);
    for (const topic of this.config.kafka.topics) {
      try {
        const offsets = await this.admin!.fetchTopicOffsets(topic);
        this.health.topicMissing(topic, false);
        for (const { partition, low, high } of offsets) {
          // A keyed partition in partition-owner mode is read by its owner, once gained.
          if (!this.bus.knows(topic, partition) && !this.ownership.isKeyed(topic)) {
            this.logger.log(`New partition ${topic}/${partition}: reading it from offset ${low}`);
            this.bus.startPartition(topic, partition, Number(low));
          }
          this.bus.sawLogEnd(topic, partition, Number(high));
        }
      } catch (err) {
        const missing = (err as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
        this.health.topicMissing(topic, missing);
        if (!missing) this.logger.debug(`Could not look up the log ends of ${topic}: ${describe(err)}`);
      }
    }
  }

  /** Whether this instance processes the partition's records: all of them, unless owners share them. */
  private takes(topic: string, partition: number): boolean {
    return this.owner?.reads(topic, partition) ?? true;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isConnectivityError(err: unknown): boolean {
  for (let cause = err as { name?: unknown; cause?: unknown } | undefined; cause;) {
    if (typeof cause.name === 'string' && CONNECTIVITY_ERRORS.has(cause.name)) return true;
    cause = cause.cause as typeof cause;
  }
  return false;
}
