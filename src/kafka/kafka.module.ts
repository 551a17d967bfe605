import { Module } from '@nestjs/common';
import { LogModule } from '../log/log.module.js';
import { OwnershipModule } from '../ownership/ownership.module.js';
import { ConsumerHealthService } from './consumer-health.service.js';
import { DeadLetterService } from './dead-letter.service.js';
import { createKafkaClient, GatewayKafkaServer, KAFKA_CLIENT_FACTORY } from './gateway-kafka.server.js';
import { InboundRecordService } from './inbound-record.service.js';
import { KafkaRecordController } from './kafka-record.controller.js';

@Module({
  imports: [LogModule, OwnershipModule],
  controllers: [KafkaRecordController],
  providers: [
    InboundRecordService,
    ConsumerHealthService,
    DeadLetterService,
    GatewayKafkaServer,
    { provide: KAFKA_CLIENT_FACTORY, useValue: createKafkaClient },
  ],
  exports: [ConsumerHealthService, GatewayKafkaServer],
})
export class KafkaModule {}
