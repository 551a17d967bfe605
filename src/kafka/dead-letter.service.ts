import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Kafka, Partitioners, type KafkaMessage, type Producer } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import type { RecordPosition } from '../log/log-position.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { kafkaClientConfig } from './kafka-client.config.js';

export const INVALID_REASON_HEADER = 'x-gateway-invalid-reason';
export const SOURCE_HEADER = 'x-gateway-source';

/** Records in flight at most; past them, more are counted as overflow and dropped. */
const MAX_IN_FLIGHT = 1000;
const SEND_TIMEOUT_MS = 5000;

/** An invalid record to copy, and why it is invalid. */
export interface DeadLetter {
  readonly source: RecordPosition;
  readonly message: KafkaMessage;
  readonly reason: string;
}

/**
 * Copies invalid records, as they came, to KAFKA_DEAD_LETTER_TOPIC with the reason and the source
 * position in headers. Copying never holds up consumption: the copies of a batch are sent in the
 * background in one request, and a request that fails (the topic is missing, Kafka is down) is
 * counted and logged, not retried.
 */
@Injectable()
export class DeadLetterService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeadLetterService.name);
  private readonly topic: string | undefined;
  private readonly producer: Producer | undefined;
  private inFlight = 0;
  private connected: Promise<void> | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly metrics: MetricsService,
  ) {
    this.topic = config.kafka.deadLetterTopic;
    if (this.topic === undefined) return;
    this.producer = new Kafka({ ...kafkaClientConfig(config.kafka), retry: { retries: 0 } }).producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 0 },
    });
  }

  onApplicationBootstrap(): void {
    this.connected = this.producer?.connect().catch((err: unknown) => {
      this.logger.warn(`The dead-letter producer could not connect yet: ${String(err)}`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** Copies the invalid records of one batch in the background. */
  copy(letters: readonly DeadLetter[]): void {
    const { producer, topic } = this;
    if (!producer || topic === undefined || letters.length === 0) return;
    const room = Math.max(0, MAX_IN_FLIGHT - this.inFlight);
    const sent = letters.length > room ? letters.slice(0, room) : letters;
    if (sent.length < letters.length) this.metrics.deadLetter('overflow', letters.length - sent.length);
    if (sent.length === 0) return;
    this.inFlight += sent.length;
    const where = sent.map(({ source }) => `${source.topic}/${source.partition}/${source.offset}`);
    void Promise.resolve(this.connected)
      .then(() =>
        producer.send({
          topic,
          timeout: SEND_TIMEOUT_MS,
          messages: sent.map(({ message, reason }, i) => ({
            key: message.key,
            value: message.value,
            headers: { ...message.headers, [INVALID_REASON_HEADER]: reason, [SOURCE_HEADER]: where[i]! },
          })),
        }),
      )
      .then(
        () => this.metrics.deadLetter('copied', sent.length),
        (err: unknown) => {
          this.metrics.deadLetter('failed', sent.length);
          const first = where[0]!;
          const more = sent.length > 1 ? ` and ${sent.length - 1} more` : '';
          this.logger.warn(
            `Could not copy invalid record ${first}${more} to ${topic}: ${err instanceof Error ? err.message : String(err)}`,
          );
        },
      )
      .finally(() => (this.inFlight -= sent.length));
  }
}
