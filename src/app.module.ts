import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from './auth/auth.module.js';
import { gatewayConfig } from './config/gateway.config.js';
import { DemoModule } from './demo/demo.module.js';
import { EventBusModule } from './event-bus/event-bus.module.js';
import { HealthModule } from './health/health.module.js';
import { KafkaModule } from './kafka/kafka.module.js';
import { StreamModule } from './stream/stream.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [gatewayConfig] }),
    EventBusModule,
    KafkaModule,
    AuthModule,
    StreamModule,
    HealthModule,
    DemoModule,
  ],
})
export class AppModule {}
