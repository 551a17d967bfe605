import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import type { RecordMetadata } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { OWNERSHIP, type Ownership } from '../ownership/ownership.js';
import { parseRecord } from '../kafka/record-parser.js';
import type { PublishedEventDto } from './publish-event.dto.js';
import { PublishRate } from './publish-rate.js';
import { CONTRACT_PROBLEMS } from './record-contract.js';

export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');
/** The record header naming who published it over HTTP: the publisher token's `sub`. */
export const PUBLISHER_HEADER = 'x-gateway-publisher';

interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: string;
}

/** Writes events to Kafka for services without a Kafka client, after the consumer's own checks. */
@Injectable()
export class EventPublisherService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Publish');
  private readonly rate: PublishRate;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(KAFKA_PRODUCER) private readonly kafka: ClientKafka,
    @Inject(OWNERSHIP) private readonly ownership: Ownership,
  ) {
    this.rate = new PublishRate(config.publish.ratePerSecond);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.kafka.connect();
  }

  /** Writes `body` for `publisher`, within its rate and its topics; every refusal is a GatewayError. */
  async publish(publisher: AuthUser, body: unknown): Promise<PublishedEventDto> {
    this.rate.admit(publisher.id);
    const { topic, key, value } = this.toRecord(body, publisher);
    const headers = { [PUBLISHER_HEADER]: publisher.id };
    let written: RecordMetadata | undefined;
    try {
      [written] = await lastValueFrom(this.kafka.emit<RecordMetadata[]>(topic, { key, value, headers }));
    } catch (err) {
      this.logger.warn(`Kafka did not take an event for ${topic}: ${(err as Error).message}`);
      throw new GatewayError('kafka-unavailable', 'Kafka did not take the event; try again', 1);
    }
    if (!written) throw new GatewayError('kafka-unavailable', `Kafka acknowledged no record for ${topic}`, 1);
    return { topic, partition: written.partition, offset: written.baseOffset ?? written.offset ?? '' };
  }

  /** The record to write: a 403 outside the publisher's topics, or a 400 naming every problem. */
  private toRecord(body: unknown, publisher: AuthUser): OutgoingRecord {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new GatewayError('bad-request', [CONTRACT_PROBLEMS['not-object']!]);
    const { topics } = this.config.kafka;
    const problems: string[] = [];
    const { topic = topics[0], key, ...event } = body as Record<string, unknown>;
    if (typeof topic !== 'string' || !topics.includes(topic)) {
      problems.push(`topic must be one of: ${topics.join(', ')}`);
    } else if (publisher.topics !== undefined && !publisher.topics.includes(topic)) {
      throw new GatewayError('topic-forbidden', `This token may not publish to topic(s): ${topic}`);
    }
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
      problems.push('key must be a string of 1-256 characters');
    }
    const parsed = parseRecord(event);
    if (!parsed.ok) problems.push(CONTRACT_PROBLEMS[parsed.reason] ?? parsed.reason);
    const value = serialised(event);
    // When the data alone is too deep to write, the parser has said so already.
    const dataTooDeep = !parsed.ok && parsed.reason === 'unserializable-data';
    if (value === undefined && !dataTooDeep) problems.push('the body is nested too deeply');
    if (value !== undefined && Buffer.byteLength(value) > this.config.kafka.maxRecordBytes) {
      problems.push(`the event is larger than ${this.config.kafka.maxRecordBytes} bytes`);
    }
    const audience = parsed.ok ? parsed.content.audience : undefined;
    // Partition-owner mode: a record must sit on its users' partition for their owner to read it.
    const ownerKey =
      audience && typeof topic === 'string'
        ? this.ownership.publishKey(topic, audience, key, problems)
        : undefined;
    if (problems.length > 0 || value === undefined) throw new GatewayError('bad-request', problems);
    const userId = audience?.kind === 'user' ? audience.userId : null;
    return { topic: topic as string, key: (key as string | undefined) ?? ownerKey ?? userId, value };
  }
}

/** The event as JSON, or undefined when it is nested too deeply to write (the stack overflows). */
function serialised(event: object): string | undefined {
  try {
    return JSON.stringify(event);
  } catch {
    return undefined;
  }
}
