import type { LoggerService } from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { HistoryReader } from '../log/catch-up.js';
import type { GatewayEvent } from '../log/gateway-event.js';
import { MAX_OFFSET } from '../log/log-position.js';
import type { PartitionLog } from '../log/partition-log.js';
import type { Ownership } from '../ownership/ownership.js';
import { closableConsumer } from './closable-consumer.js';
import { instanceGroupId } from './kafka-client.config.js';
import { describeError } from './log-watch.js';
import { parseRecordValue } from './record-parser.js';

export interface HistoryReaderOptions {
  readonly kafka: Kafka;
  readonly topics: readonly string[];
  readonly groupPrefix: string;
  readonly maxRecordBytes: number;
  readonly log: PartitionLog;
  readonly ownership: Ownership;
  readonly logger: LoggerService;
}

/** How long a fetch for a catch-up waits for records; short, as a pass reads what already exists. */
const FETCH_MAX_WAIT_MS = 100;
/** Records handed to the passes between two turns of the event loop. */
const CHUNK = 2000;

/**
 * Reads history for catch-ups (log/catch-up.ts) with a kafkajs consumer of its own. kafkajs has no
 * manual assignment, so the consumer joins a group of its own, that never commits, for every
 * partition of the configured topics, and holds them all paused: a partition is read only while
 * a pass needs it, from the offset the pass asks for (seek, then resume), and paused again when it
 * ends. Records are checked against the contract as the live consumer checks them; invalid ones
 * were counted and dead-lettered by it, so they are skipped here without a word.
 */
export class KafkaHistoryReader implements HistoryReader {
  /** Set once the consumer runs: kafkajs takes seeks and pauses only then. */
  private consumer: Consumer | undefined;
  /** Partitions being read (`topic/partition`), and where to read them from after a rejoin. */
  private readonly reading = new Map<string, { topic: string; partition: number; next: number }>();
  /** Set once created, so that a close during start disconnects it. */
  private created: Consumer | undefined;
  private closed = false;

  constructor(private readonly options: HistoryReaderOptions) {}

  async start(): Promise<void> {
    const { kafka, topics, groupPrefix } = this.options;
    const consumer = closableConsumer(
      kafka,
      {
        groupId: `${instanceGroupId(groupPrefix)}.history`,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      },
      () => this.closed,
    );
    this.created = consumer;
    // Before any fetch of a new member: everything paused, what is being read resumed where it stands.
    consumer.on(consumer.events.GROUP_JOIN, () => this.rejoined(consumer));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!this.closed)
        this.options.logger.warn(`The history reader stopped (${describeError(payload.error)})`);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    // A close that came while connecting may have found nothing yet to disconnect.
    if (this.closed) return consumer.disconnect().catch(() => undefined);
    const running = consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.consumer = consumer;
    this.rejoined(consumer);
    await running;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.created?.disconnect().catch(() => undefined);
  }

  read(topic: string, partition: number, offset: number): void {
    this.reading.set(`${topic}/${partition}`, { topic, partition, next: offset });
    const consumer = this.consumer;
    if (!consumer) return;
    consumer.seek({ topic, partition, offset: String(offset) });
    consumer.resume([{ topic, partitions: [partition] }]);
  }

  stop(topic: string, partition: number): void {
    this.reading.delete(`${topic}/${partition}`);
    this.consumer?.pause([{ topic, partitions: [partition] }]);
  }

  private rejoined(consumer: Consumer): void {
    this.pauseAll(consumer);
    for (const { topic, partition, next } of this.reading.values()) {
      consumer.seek({ topic, partition, offset: String(next) });
      consumer.resume([{ topic, partitions: [partition] }]);
    }
  }

  private pauseAll(consumer: Consumer): void {
    consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const key = `${batch.topic}/${batch.partition}`;
    let reading = this.reading.get(key);
    // A batch fetched before the pass went back to an earlier offset is not what it reads now.
    if (!reading || payload.isStale()) return;
    const { topic, partition } = reading;
    const highWatermark = Number(batch.highWatermark);
    const last = Number(batch.lastOffset()) + 1;
    let fetchedOffset = Number((batch as typeof batch & { fetchedOffset: string }).fetchedOffset);
    // Live delivery goes first: a pass yields the event loop every CHUNK records, however large a batch.
    for (let at = 0; at < batch.messages.length || at === 0; at += CHUNK) {
      const chunk = batch.messages.slice(at, at + CHUNK);
      const next = at + CHUNK >= batch.messages.length ? last : Number(chunk.at(-1)!.offset) + 1;
      const records = this.eventsOf(topic, partition, chunk);
      reading.next = next;
      this.options.log.takeHistory({
        topic,
        partition,
        fetchedOffset,
        highWatermark,
        offsetReset: false,
        next,
        records,
      });
      fetchedOffset = next;
      await new Promise((resolve) => setImmediate(resolve));
      reading = this.reading.get(key);
      if (!reading || payload.isStale()) return;
    }
  }

  /** The records that carry an event for the streams, checked as the live consumer checks them. */
  private eventsOf(topic: string, partition: number, messages: readonly KafkaMessage[]): GatewayEvent[] {
    const events: GatewayEvent[] = [];
    for (const message of messages) {
      const offset = Number(message.offset);
      if (offset > MAX_OFFSET) continue;
      const parsed = parseRecordValue(message.value, this.options.maxRecordBytes);
      if (!parsed.ok || this.options.ownership.misroutes(topic, partition, parsed.content.audience)) continue;
      const { type, data, audience } = parsed.content;
      events.push({ topic, partition, offset, type, data, audience, timestamp: Number(message.timestamp) });
    }
    return events;
  }
}
