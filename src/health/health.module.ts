import { Module } from '@nestjs/common';
import { KafkaModule } from '../kafka/kafka.module.js';
import { StreamModule } from '../stream/stream.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({
  imports: [KafkaModule, StreamModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
