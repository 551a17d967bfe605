import { Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module.js';
import { ClientBundleModule } from './client-bundle/client-bundle.module.js';
import { GatewayErrorFilter } from './common/gateway-error.filter.js';
import { GATEWAY_CONFIG, gatewayConfigModule, type GatewayConfig } from './config/gateway.config.js';
import { DemoModule } from './demo/demo.module.js';
import { EventBusModule } from './event-bus/event-bus.module.js';
import { HealthModule } from './health/health.module.js';
import { KafkaModule } from './kafka/kafka.module.js';
import { loggerParams } from './logging/logger.options.js';
import { ManagementModule } from './management/management.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PublishModule } from './publish/publish.module.js';
import { StreamModule } from './stream/stream.module.js';

/** The whole gateway, for one validated configuration (main.ts parses it; tests build their own). */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        gatewayConfigModule(config),
        LoggerModule.forRootAsync({
          inject: [GATEWAY_CONFIG],
          useFactory: (gateway: GatewayConfig) => ({
            ...loggerParams(gateway),
            // A stream logs a line of its own when it opens and closes; a request logger (a child
            // logger and an async context) held for its whole life would cost every open stream.
            exclude: [{ method: RequestMethod.GET, path: 'events' }],
          }),
        }),
        ManagementModule,
        MetricsModule,
        EventBusModule,
        KafkaModule,
        AuthModule,
        StreamModule,
        PublishModule,
        HealthModule,
        ClientBundleModule,
        DemoModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: GatewayErrorFilter }],
    };
  }
}
