import { BadRequestException, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import type { RecordMetadata } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { parseRecord, type InvalidRecordReason } from '../kafka/record-parser.js';
import type { PublishedEventDto } from './publish-event.dto.js';

export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');

const REASONS: Partial<Record<InvalidRecordReason, string>> = {
  'not-object': 'the body must be a JSON object',
  'bad-type': 'type must be a string of 1-128 characters without control characters',
  'reserved-type': 'type is reserved: checkpoint, error, open and reset are the gateway’s own',
  'missing-data': 'data is required (it may be null)',
  'unserializable-data': 'data is nested too deeply',
  'bad-addressing': 'give exactly one of userId, userIds (non-empty) or broadcast: true',
  'bad-user-id': 'user ids must be strings of 1-256 characters without control characters',
};

/** Writes events to Kafka for services without a Kafka client, after the consumer's own checks. */
@Injectable()
export class EventPublisherService implements OnApplicationBootstrap {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(KAFKA_PRODUCER) private readonly kafka: ClientKafka,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.kafka.connect();
  }

  async publish(body: unknown): Promise<PublishedEventDto> {
    const { topic, key, value } = this.toRecord(body);
    const [written] = await lastValueFrom(this.kafka.emit<RecordMetadata[]>(topic, { key, value }));
    if (!written) throw new Error(`Kafka acknowledged no record for ${topic}`);
    return { topic, partition: written.partition, offset: written.baseOffset ?? written.offset ?? '' };
  }

  /** The record to write, or a 400 naming every problem with the body. */
  private toRecord(body: unknown): { topic: string; key: string | null; value: string } {
    const problems: string[] = [];
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const { topic = this.config.kafka.topics[0], key, ...event } = fields;
    if (typeof topic !== 'string' || !this.config.kafka.topics.includes(topic)) {
      problems.push(`topic must be one of: ${this.config.kafka.topics.join(', ')}`);
    }
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
      problems.push('key must be a string of 1-256 characters');
    }
    const parsed = parseRecord(
      typeof body === 'object' && body !== null && !Array.isArray(body) ? event : body,
    );
    if (!parsed.ok) problems.push(REASONS[parsed.reason] ?? parsed.reason);
    const value = JSON.stringify(event);
    if (Buffer.byteLength(value) > this.config.kafka.maxRecordBytes) {
      problems.push(`the event is larger than ${this.config.kafka.maxRecordBytes} bytes`);
    }
    if (problems.length > 0) throw new BadRequestException(problems);
    const userId =
      parsed.ok && parsed.content.audience.kind === 'user' ? parsed.content.audience.userId : null;
    return { topic: topic as string, key: (key as string | undefined) ?? userId, value };
  }
}
