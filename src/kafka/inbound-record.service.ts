import { Injectable, Logger } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { ConsumerStateService } from './consumer-state.service.js';
import { parseRecordValue, type InvalidRecordReason } from './record-parser.js';

export interface InboundRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka's decimal offset string. */
  readonly offset: string;
  readonly value: Buffer | null;
  /** Kafka's epoch-millisecond timestamp string. */
  readonly timestamp: string;
}

/** Counts of what the consumer saw, for tests today and metrics later. */
export interface InboundCounts {
  readonly consumed: Map<string, number>;
  readonly invalid: Map<InvalidRecordReason, number>;
}

/** Turns consumed records into events on the bus; skips, counts and logs the invalid ones. */
@Injectable()
export class InboundRecordService {
  private readonly logger = new Logger(InboundRecordService.name);
  readonly counts: InboundCounts = { consumed: new Map(), invalid: new Map() };

  constructor(
    @Inject(gatewayConfig.KEY) private readonly config: GatewayConfig,
    private readonly bus: EventBusService,
    private readonly consumer: ConsumerStateService,
  ) {}

  take(record: InboundRecord): void {
    const position = { topic: record.topic, partition: record.partition, offset: BigInt(record.offset) };
    increment(this.counts.consumed, record.topic);
    const parsed = parseRecordValue(record.value, this.config.kafka.maxRecordBytes);
    if (parsed.ok) {
      this.bus.publish({ ...position, ...parsed.content, timestamp: Number(record.timestamp) });
    } else {
      increment(this.counts.invalid, parsed.reason);
      // Position and reason only: a payload may hold personal data or secrets.
      this.logger.warn(
        `Skipped invalid record ${record.topic}/${record.partition}/${record.offset}: ${parsed.reason}`,
      );
      this.bus.skip(position);
    }
    this.consumer.reached(record.topic, record.partition, position.offset + 1n);
  }
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
