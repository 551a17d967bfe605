import { Module } from '@nestjs/common';
import { EventBusModule } from '../event-bus/event-bus.module.js';
import { ConsumerHealthService } from './consumer-health.service.js';
import { DeadLetterService } from './dead-letter.service.js';
import { GatewayKafkaServer } from './gateway-kafka.server.js';
import { InboundRecordService } from './inbound-record.service.js';
import { KafkaRecordController } from './kafka-record.controller.js';

@Module({
  imports: [EventBusModule],
  controllers: [KafkaRecordController],
  providers: [InboundRecordService, ConsumerHealthService, DeadLetterService, GatewayKafkaServer],
  exports: [ConsumerHealthService, GatewayKafkaServer],
})
export class KafkaModule {}
