import { Module } from '@nestjs/common';
import { EventBusModule } from '../event-bus/event-bus.module.js';
import { ConsumerStateService } from './consumer-state.service.js';
import { InboundRecordService } from './inbound-record.service.js';
import { KafkaRecordController } from './kafka-record.controller.js';

@Module({
  imports: [EventBusModule],
  controllers: [KafkaRecordController],
  providers: [InboundRecordService, ConsumerStateService],
  exports: [InboundRecordService, ConsumerStateService],
})
export class KafkaModule {}
