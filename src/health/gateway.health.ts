import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { OWNERSHIP, type Ownership } from '../ownership/ownership.js';
import { ConsumerHealthService } from '../kafka/consumer-health.service.js';
import { EventStreamService } from '../stream/event-stream.service.js';

/** The gateway's own health indicators, for @nestjs/terminus. */
@Injectable()
export class GatewayHealthIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly consumer: ConsumerHealthService,
    private readonly streams: EventStreamService,
    @Inject(OWNERSHIP) private readonly owners: Ownership,
  ) {}

  /** The consumer is in its group and fetching. */
  kafka(): HealthIndicatorResult<'kafka'> {
    const problems = this.consumer.kafkaProblems();
    const kafka = this.indicators.check('kafka');
    return problems.length === 0 ? kafka.up() : kafka.down({ reasons: problems });
  }

  /** The consumer is running, or being replaced within KAFKA_RECOVERY_TIMEOUT_MS. */
  consumerAlive(): HealthIndicatorResult<'kafkaConsumer'> {
    const { ready, reasons } = this.consumer.liveness();
    const consumer = this.indicators.check('kafkaConsumer');
    return ready ? consumer.up() : consumer.down({ reasons });
  }

  /** The replay buffer holds the whole window, so any resume can be served. */
  replayBuffer(): HealthIndicatorResult<'replayBuffer'> {
    const behind = this.consumer.partitionsBehind;
    const buffer = this.indicators.check('replayBuffer');
    return behind === 0
      ? buffer.up()
      : buffer.down({ reasons: [`warming up: ${behind} partition(s) behind`] });
  }

  /** Partition-owner mode only: this instance's own partitions are warm. */
  ownership(): HealthIndicatorResult<'ownership'> | undefined {
    const readiness = this.owners.readiness();
    if (!readiness) return undefined;
    const indicator = this.indicators.check('ownership');
    return readiness.ready ? indicator.up(readiness.details) : indicator.down(readiness.details);
  }

  /** New streams are accepted: false once shutting down. */
  streamsAccepted(): HealthIndicatorResult<'streams'> {
    const streams = this.indicators.check('streams');
    return this.streams.isDraining
      ? streams.down({ reasons: ['shutting down'] })
      : streams.up({ open: this.streams.openStreams });
  }
}
