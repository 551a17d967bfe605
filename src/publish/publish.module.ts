import { Module } from '@nestjs/common';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { Partitioners } from 'kafkajs';
import { AuthModule } from '../auth/auth.module.js';
import { OwnershipModule } from '../ownership/ownership.module.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { kafkaClientConfig } from '../kafka/kafka-client.config.js';
import { EventPublisherService, KAFKA_PRODUCER } from './event-publisher.service.js';
import { PublishController } from './publish.controller.js';
import { PublisherGuard } from './publisher.guard.js';

@Module({
  imports: [
    AuthModule,
    OwnershipModule,
    ClientsModule.registerAsync([
      {
        name: KAFKA_PRODUCER,
        inject: [GATEWAY_CONFIG],
        useFactory: (config: GatewayConfig) => ({
          transport: Transport.KAFKA,
          options: {
            client: kafkaClientConfig(config.kafka),
            producer: { createPartitioner: Partitioners.DefaultPartitioner },
            producerOnlyMode: true,
            postfixId: '',
          },
        }),
      },
    ]),
  ],
  controllers: [PublishController],
  providers: [EventPublisherService, PublisherGuard],
})
export class PublishModule {}
