import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { GatewayHealthIndicators } from './gateway.health.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly gateway: GatewayHealthIndicators,
  ) {}

  /** The process serves HTTP and its Kafka consumer runs, or is being replaced in time. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up and its Kafka consumer was not lost for good' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.gateway.consumerAlive()]);
  }

  /** Ready for streams: the consumer follows Kafka, the replay buffer is warm, not shutting down. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: 200 when the consumer follows Kafka and the replay buffer is warm; 503 with reasons otherwise',
  })
  ready(): Promise<HealthCheckResult> {
    const ownership = this.gateway.ownership();
    return this.health.check([
      () => this.gateway.kafka(),
      () => this.gateway.replayBuffer(),
      () => this.gateway.streamsAccepted(),
      ...(ownership ? [() => ownership] : []),
    ]);
  }
}
