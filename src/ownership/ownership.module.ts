import { Module } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { LogModule } from '../log/log.module.js';
import { PARTITION_LOG, type PartitionLog } from '../log/partition-log.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OwnerGroup } from './owner-group.js';
import {
  CONSUMER_MEMBERSHIP,
  EveryInstance,
  OWNERSHIP,
  type ConsumerMembership,
  type Ownership,
} from './ownership.js';
import { OwnershipMetrics } from './ownership.metrics.js';
import { PartitionOwnershipService } from './partition-ownership.service.js';

const MODE = Symbol('OwnershipMode');

interface Mode {
  readonly ownership: Ownership;
  readonly membership: ConsumerMembership;
}

/**
 * Partition ownership, for the mode the configuration names: every instance serves everyone
 * (EveryInstance), or, with KAFKA_CONSUMPTION=partition-owner, each instance the users of the
 * partitions it owns (PartitionOwnershipService, OwnerGroup, and their metrics).
 */
@Module({
  imports: [LogModule],
  providers: [
    {
      provide: MODE,
      inject: [GATEWAY_CONFIG, PARTITION_LOG, MetricsService],
      useFactory: (config: GatewayConfig, log: PartitionLog, metrics: MetricsService): Mode => {
        const settings = config.ownership;
        if (!settings) {
          const everyInstance = new EveryInstance(config.kafka.topics);
          return { ownership: everyInstance, membership: everyInstance };
        }
        const ownership = new PartitionOwnershipService(settings, new OwnershipMetrics(metrics.registry));
        const membership = new OwnerGroup({ settings, windowMs: config.replay.windowMs, log, ownership });
        return { ownership, membership };
      },
    },
    { provide: OWNERSHIP, inject: [MODE], useFactory: (mode: Mode) => mode.ownership },
    { provide: CONSUMER_MEMBERSHIP, inject: [MODE], useFactory: (mode: Mode) => mode.membership },
  ],
  exports: [OWNERSHIP, CONSUMER_MEMBERSHIP],
})
export class OwnershipModule {}
