import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthService, type ReadinessReport } from './health.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready for streams: the consumer is in its group and fetching, and the replay buffer is warm. */
  @Get('ready')
  ready(): ReadinessReport {
    const report = this.health.readiness();
    if (report.status !== 'ready') throw new ServiceUnavailableException(report);
    return report;
  }
}
