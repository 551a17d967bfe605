import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module.js';
import { gatewayConfig, type GatewayConfig } from './config/gateway.config.js';
import { loggerParams } from './logging/logger.options.js';
import { DemoModule } from './demo/demo.module.js';
import { EventBusModule } from './event-bus/event-bus.module.js';
import { HealthModule } from './health/health.module.js';
import { KafkaModule } from './kafka/kafka.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PublishModule } from './publish/publish.module.js';
import { StreamModule } from './stream/stream.module.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [gatewayConfig] }),
    LoggerModule.forRootAsync({
      inject: [gatewayConfig.KEY],
      useFactory: (config: GatewayConfig) => loggerParams(config),
    }),
    MetricsModule,
    EventBusModule,
    KafkaModule,
    AuthModule,
    StreamModule,
    PublishModule,
    HealthModule,
    DemoModule,
  ],
})
export class AppModule {}
