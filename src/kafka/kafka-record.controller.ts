import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { KAFKA_RECORD_BATCH, type ConsumedBatch } from './consumed-batch.js';
import { InboundRecordService } from './inbound-record.service.js';

@Controller()
export class KafkaRecordController {
  constructor(private readonly inbound: InboundRecordService) {}

  /**
   * Takes every batch of the configured topics, in one synchronous pass. It never throws for bad
   * data: Nest would retry a throwing handler forever, stalling the partition behind one record.
   */
  @EventPattern(KAFKA_RECORD_BATCH)
  onBatch(@Payload() batch: ConsumedBatch): void {
    this.inbound.takeBatch(batch);
  }
}
