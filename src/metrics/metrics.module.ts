import { Global, Module } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { OwnershipMetrics } from './ownership.metrics.js';

/** Global: every feature reports to the one registry. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    MetricsService,
    {
      provide: OwnershipMetrics,
      inject: [GATEWAY_CONFIG, MetricsService],
      useFactory: (config: GatewayConfig, metrics: MetricsService) =>
        new OwnershipMetrics(config.ownership ? metrics.registry : undefined),
    },
  ],
  exports: [MetricsService, OwnershipMetrics],
})
export class MetricsModule {}
