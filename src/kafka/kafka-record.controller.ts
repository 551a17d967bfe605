import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { InboundRecordService } from './inbound-record.service.js';

@Controller()
export class KafkaRecordController {
  private readonly logger = new Logger(KafkaRecordController.name);

  constructor(private readonly inbound: InboundRecordService) {}

  /**
   * Takes every record of the configured topics (bound by `listenToTopics`). It never throws: Nest
   * retries a throwing handler forever, which would stall the partition behind one bad record.
   */
  onRecord(@Ctx() context: KafkaContext): void {
    const message = context.getMessage();
    try {
      this.inbound.take({
        topic: context.getTopic(),
        partition: context.getPartition(),
        offset: message.offset,
        value: asBuffer(message.value),
        timestamp: message.timestamp,
      });
    } catch (err) {
      this.logger.error(
        `Skipped record ${context.getTopic()}/${context.getPartition()}/${message.offset} after an error: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    }
  }
}

/** With `keepBinary` the transport hands values over as kafkajs read them. */
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
