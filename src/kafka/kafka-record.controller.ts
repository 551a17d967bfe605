import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { InboundRecordService } from './inbound-record.service.js';
import type { InvalidRecordReason } from './record-parser.js';

export const INVALID_REASON_HEADER = 'x-gateway-invalid-reason';
export const SOURCE_HEADER = 'x-gateway-source';

@Controller()
export class KafkaRecordController {
  private readonly logger = new Logger(KafkaRecordController.name);

  constructor(
    @Inject(gatewayConfig.KEY) private readonly config: GatewayConfig,
    private readonly inbound: InboundRecordService,
  ) {}

  /**
   * Takes every record of the configured topics (bound by `listenToTopics`). It never throws: Nest
   * retries a throwing handler forever, which would stall the partition behind one bad record.
   */
  async onRecord(@Ctx() context: KafkaContext): Promise<void> {
    const message = context.getMessage();
    const where = `${context.getTopic()}/${context.getPartition()}/${message.offset}`;
    try {
      const invalid = this.inbound.take({
        topic: context.getTopic(),
        partition: context.getPartition(),
        offset: message.offset,
        value: asBuffer(message.value),
        timestamp: message.timestamp,
      });
      if (invalid && this.config.kafka.deadLetterTopic) await this.deadLetter(context, invalid, where);
    } catch (err) {
      this.logger.error(
        `Skipped record ${where} after an error: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Copies an invalid record, as it came, to the dead-letter topic with the reason in a header. */
  private async deadLetter(context: KafkaContext, reason: InvalidRecordReason, where: string): Promise<void> {
    const message = context.getMessage();
    await context.getProducer().send({
      topic: this.config.kafka.deadLetterTopic as string,
      messages: [
        {
          key: message.key,
          value: asBuffer(message.value),
          headers: {
            ...(message.headers as Record<string, Buffer | string | undefined>),
            [INVALID_REASON_HEADER]: reason,
            [SOURCE_HEADER]: where,
          },
        },
      ],
    });
  }
}

/** The transport hands values over as kafkajs read them (see RawKafkaParser). */
function asBuffer(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  return typeof value === 'string' ? Buffer.from(value) : Buffer.from(JSON.stringify(value));
}

/**
 * Topics are configuration, known only at start-up, so the pattern is applied then, with Nest's
 * own decorator, instead of being written into the class.
 */
export function listenToTopics(topics: readonly string[]): void {
  const prototype = KafkaRecordController.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'onRecord');
  if (!descriptor) throw new Error('KafkaRecordController.onRecord is missing');
  EventPattern([...topics])(prototype, 'onRecord', descriptor);
}
