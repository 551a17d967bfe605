import { Injectable } from '@nestjs/common';
import { ConsumerStateService } from '../kafka/consumer-state.service.js';
import { EventStreamService } from '../stream/event-stream.service.js';

export interface ReadinessReport {
  status: 'ready' | 'not-ready';
  reasons: string[];
}

@Injectable()
export class HealthService {
  constructor(
    private readonly consumer: ConsumerStateService,
    private readonly streams: EventStreamService,
  ) {}

  readiness(): ReadinessReport {
    const { reasons } = this.consumer.readiness();
    if (this.streams.isDraining) reasons.unshift('shutting down');
    return { status: reasons.length === 0 ? 'ready' : 'not-ready', reasons };
  }
}
