import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KafkaModule } from '../kafka/kafka.module.js';
import { OwnershipModule } from '../ownership/ownership.module.js';
import { StreamModule } from '../stream/stream.module.js';
import { GatewayHealthIndicators } from './gateway.health.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), KafkaModule, OwnershipModule, StreamModule],
  controllers: [HealthController],
  providers: [GatewayHealthIndicators],
})
export class HealthModule {}
