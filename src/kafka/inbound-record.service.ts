import { Inject, Injectable, Logger } from '@nestjs/common';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
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

/** Turns consumed records into events on the bus; skips, counts and logs the invalid ones. */
@Injectable()
export class InboundRecordService {
  private readonly logger = new Logger(InboundRecordService.name);

  constructor(
    @Inject(gatewayConfig.KEY) private readonly config: GatewayConfig,
    private readonly bus: EventBusService,
    private readonly consumer: ConsumerStateService,
    private readonly metrics: MetricsService,
  ) {}

  /** @returns why the record was skipped, or undefined when it became an event. */
  take(record: InboundRecord): InvalidRecordReason | undefined {
    const position = { topic: record.topic, partition: record.partition, offset: BigInt(record.offset) };
    this.metrics.recordConsumed(record.topic);
    const parsed = parseRecordValue(record.value, this.config.kafka.maxRecordBytes);
    if (parsed.ok) {
      const timestamp = Number(record.timestamp);
      const delivered = this.bus.publish({ ...position, ...parsed.content, timestamp });
      this.metrics.eventDelivered(delivered, timestamp);
    } else {
      this.metrics.recordInvalid(parsed.reason);
      // Position and reason only: a payload may hold personal data or secrets.
      this.logger.warn(
        `Skipped invalid record ${record.topic}/${record.partition}/${record.offset}: ${parsed.reason}`,
      );
      this.bus.skip(position);
    }
    this.consumer.reached(record.topic, record.partition, position.offset + 1n);
    return parsed.ok ? undefined : parsed.reason;
  }
}
