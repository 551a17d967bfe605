import type { LoggerService } from '@nestjs/common';
import { Partitioners, type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { PartitionLog } from '../log/partition-log.js';
import type { JournalWriter } from '../log/position-journal.js';
import { closableConsumer } from './closable-consumer.js';
import { instanceGroupId } from './kafka-client.config.js';
import { CheckpointLookups } from './checkpoint-lookups.js';
import { describeError } from './log-watch.js';

export interface PositionsTopicOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupPrefix: string;
  readonly log: PartitionLog;
  readonly logger: LoggerService;
}

/** Checkpoints read back at start: the newest of them, about an hour of three instances. */
const READ_BACK = 10_000;
/** How long a checkpoint stays in the topic: far longer than any id is resumed from. */
const RETENTION_MS = 7 * 24 * 3600_000;
/** How long a stream open waits for a checkpoint its id names and memory does not hold. */
const LOOK_UP_DEADLINE_MS = 3000;
const READ_BACK_DEADLINE_MS = 10_000;

/**
 * The gateway's positions topic (KAFKA_POSITIONS_TOPIC), where every instance writes its
 * checkpoints and reads everyone's (log/position-journal.ts): compact ids name them by offset, so
 * the topic is the one store of state the instances share, and it is Kafka. The topic is created
 * when missing (one partition); if it cannot be, ids carry full cursors, as they did without it.
 */
export class PositionsTopic implements JournalWriter {
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private lookups: CheckpointLookups | undefined;
  private closed = false;

  constructor(private readonly options: PositionsTopicOptions) {}

  /** Reads the newest checkpoints back, then writes to the topic from then on. */
  async start(admin: Admin): Promise<void> {
    const { kafka, topic, log, logger } = this.options;
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        await admin.createTopics({
          topics: [
            {
              topic,
              numPartitions: 1,
              configEntries: [
                { name: 'cleanup.policy', value: 'delete' },
                { name: 'retention.ms', value: String(RETENTION_MS) },
              ],
            },
          ],
          waitForLeaders: true,
        });
      }
      const [offsets] = await admin.fetchTopicOffsets(topic);
      const end = Number(offsets?.high ?? 0);
      await this.readBack(end);
      const producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      this.producer = producer;
      await producer.connect();
      if (this.closed) return producer.disconnect().catch(() => undefined);
      log.journalWith(this);
    } catch (err) {
      logger.warn(
        `Event ids carry full cursors: the positions topic ${topic} is not usable (${describeError(err)})`,
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }

  async write(text: string): Promise<number> {
    const [written] = await this.producer!.send({ topic: this.options.topic, messages: [{ value: text }] });
    return Number(written!.baseOffset);
  }

  look(offset: number): Promise<string | undefined> {
    return this.lookups?.look(offset, LOOK_UP_DEADLINE_MS) ?? Promise.resolve(undefined);
  }

  /** Tails the topic from the newest READ_BACK checkpoints; resolves once it has read up to `end`. */
  private async readBack(end: number): Promise<void> {
    const { kafka, topic, groupPrefix, log } = this.options;
    const consumer = closableConsumer(
      kafka,
      { groupId: `${instanceGroupId(groupPrefix)}.positions`, maxWaitTimeInMs: 250 },
      () => this.closed,
    );
    this.consumer = consumer;
    const lookups = new CheckpointLookups((offset) =>
      consumer.seek({ topic, partition: 0, offset: String(offset) }),
    );
    this.lookups = lookups;
    let caughtUp: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (caughtUp = resolve));
    if (end === 0) caughtUp();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      const start = Math.max(0, end - READ_BACK);
      consumer.seek({ topic, partition: 0, offset: String(start) });
      lookups.rejoined(start);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        const records = batch.messages.map((message) => ({
          offset: Number(message.offset),
          text: message.value?.toString(),
        }));
        const last = Number(batch.lastOffset());
        if (!lookups.read(records, last)) return Promise.resolve();
        for (const { offset, text } of records) if (text) log.learnCheckpoint(offset, text);
        if (last + 1 >= end) caughtUp();
        return Promise.resolve();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () => fail(new Error(`not read back within ${READ_BACK_DEADLINE_MS} ms`)),
        READ_BACK_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([reached, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
