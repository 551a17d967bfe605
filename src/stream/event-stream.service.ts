import {
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
  type BeforeApplicationShutdown,
  type MessageEvent,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { MetricsService, type StreamCloseReason } from '../metrics/metrics.service.js';
import { wasDroppedAsSlow } from './sse-writer.interceptor.js';
import { StreamLimitException } from './stream-limit.exception.js';
import { selectTopics } from './topic-selection.js';
import { UserStream } from './user-stream.js';

/** When a client over a limit should try again: about when a stream turns over (reconnects). */
const RETRY_AFTER_SECONDS = 30;

@Injectable()
export class EventStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStreamService.name);
  private readonly open = new Set<UserStream>();
  private readonly perUser = new Map<string, number>();
  private draining = false;

  constructor(
    @Inject(gatewayConfig.KEY) private readonly config: GatewayConfig,
    private readonly bus: EventBusService,
    private readonly metrics: MetricsService,
  ) {}

  get openStreams(): number {
    return this.open.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Checks the request, then returns the user's stream, resumed after `lastEventId` when given.
   * Throws 400/403/429/503 before any stream starts. `response` tells a slow client's drop apart.
   */
  streamFor(
    user: AuthUser,
    topicsQuery: unknown,
    lastEventId: string | undefined,
    response?: ServerResponse,
  ): Observable<MessageEvent> {
    if (this.draining)
      throw new ServiceUnavailableException('The gateway is shutting down; reconnect to another instance');
    const topics = selectTopics(this.config.kafka.topics, user.topics, topicsQuery);
    this.checkLimits(user.id);
    return new Observable<MessageEvent>((observer) => {
      const stream = new UserStream(observer, user, topics, this.bus, this.config);
      const connectionId = randomUUID();
      const openedAt = Date.now();
      this.track(stream, user.id, +1);
      const plan = stream.start(lastEventId);
      if (plan.kind === 'replay') this.metrics.replayed(plan.events.length);
      if (plan.kind === 'reset') this.metrics.resetSent(plan.reason);
      this.logger.log({ msg: 'stream opened', user: user.id, connectionId, topics, resume: plan.kind });
      return () => {
        stream.stop();
        this.track(stream, user.id, -1);
        const reason: StreamCloseReason =
          stream.endReason ?? (wasDroppedAsSlow(response) ? 'slow' : 'client');
        this.metrics.streamClosed(reason);
        this.logger.log({
          msg: 'stream closed',
          user: user.id,
          connectionId,
          topics,
          durationMs: Date.now() - openedAt,
          eventsSent: stream.eventsSent,
          reason,
        });
      };
    });
  }

  /** Ends every stream with a resume point, so clients reconnect elsewhere and the server can close. */
  beforeApplicationShutdown(): void {
    this.draining = true;
    for (const stream of [...this.open]) stream.end('shutdown');
  }

  private checkLimits(userId: string): void {
    if (this.open.size >= this.config.stream.maxTotal) {
      throw new StreamLimitException('This instance holds as many streams as it may', RETRY_AFTER_SECONDS);
    }
    if ((this.perUser.get(userId) ?? 0) >= this.config.stream.maxPerUser) {
      throw new StreamLimitException('Too many open streams for this user', RETRY_AFTER_SECONDS);
    }
  }

  private track(stream: UserStream, userId: string, change: 1 | -1): void {
    const count = (this.perUser.get(userId) ?? 0) + change;
    if (count > 0) this.perUser.set(userId, count);
    else this.perUser.delete(userId);
    if (change > 0) {
      this.open.add(stream);
      this.metrics.streamOpened();
    } else {
      this.open.delete(stream);
    }
  }
}
