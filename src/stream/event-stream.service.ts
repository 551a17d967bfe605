import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type MessageEvent,
  type OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { STREAM_HUB, type StreamHub } from '../event-bus/stream-hub.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { FlushScheduler } from './flush-scheduler.js';
import { FrameCache } from './sse-frame.js';
import {
  StreamConnection,
  type ConnectionOwner,
  type StreamCloseReason,
  type StreamSettings,
} from './stream-connection.js';
import { StreamLimits } from './stream-limits.js';
import { TimerWheel } from './timer-wheel.js';
import { selectTopics } from './topic-selection.js';

/**
 * Characters of events that may wait for a client that does not read. Past it, the connection is
 * dropped; the client reconnects with its last id and loses nothing.
 */
export const SLOW_CLIENT_MAX_PENDING = 256 * 1024;
const TIMER_RESOLUTION_MS = 250;
const RATE_SWEEP_INTERVAL_MS = 60_000;

/** Every open stream of the instance: opens them within the limits, and ends them at shutdown. */
@Injectable()
export class EventStreamService implements ConnectionOwner, BeforeApplicationShutdown, OnModuleDestroy {
  readonly wheel = new TimerWheel(TIMER_RESOLUTION_MS);
  readonly frames = new FrameCache();
  readonly flushes = new FlushScheduler();
  readonly settings: StreamSettings;
  private readonly logger = new Logger('Streams');
  private readonly connections = new Set<StreamConnection>();
  private readonly limits: StreamLimits;
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(STREAM_HUB) readonly hub: StreamHub,
    private readonly metrics: MetricsService,
  ) {
    const { stream, kafka } = config;
    this.settings = {
      configuredTopics: kafka.topics,
      heartbeatMs: stream.heartbeatMs,
      retryMs: stream.retryMs,
      maxLifetimeMs: stream.maxLifetimeMs,
      slowClientMaxPending: SLOW_CLIENT_MAX_PENDING,
      logEndRefreshMs: kafka.metadataRefreshMs,
    };
    this.limits = new StreamLimits(stream);
    this.sweeper = setInterval(() => this.limits.sweep(), RATE_SWEEP_INTERVAL_MS).unref();
  }

  get openStreams(): number {
    return this.connections.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * The user's stream on the topics asked for, resumed after `lastEventId` when given. Every
   * refusal (400, 403, 429, 503) is thrown here, before any stream starts.
   */
  open(
    user: AuthUser,
    topicsQuery: unknown,
    lastEventId: string | undefined,
    response: ServerResponse,
    requestId: string,
  ): Observable<MessageEvent> {
    if (this.draining) {
      throw new GatewayError(
        'shutting-down',
        'The gateway is shutting down; reconnect to another instance',
        Math.max(1, Math.ceil(this.settings.retryMs / 1000)),
      );
    }
    if (!this.hub.available) {
      throw new GatewayError(
        'not-consuming',
        'This instance cannot follow Kafka; reconnect to another instance',
      );
    }
    const topics = this.hub.topicSet(selectTopics(this.config.kafka.topics, user.topics, topicsQuery));
    this.limits.admit(user.id);
    return new Observable<MessageEvent>((observer) => {
      const connection = new StreamConnection(this, user, topics, response, observer, randomUUID());
      this.connections.add(connection);
      this.limits.opened(user.id);
      this.metrics.streamOpened();
      const plan = connection.start(lastEventId);
      if (plan.kind === 'replay') this.metrics.replayed(plan.events.length);
      if (plan.kind === 'reset') this.metrics.resetSent(plan.reason);
      this.logger.log({
        msg: 'stream opened',
        requestId,
        connectionId: connection.connectionId,
        user: user.id,
        topics: topics.topics,
        resume: plan.kind,
      });
      return () => connection.released();
    });
  }

  closed(connection: StreamConnection, reason: StreamCloseReason): void {
    if (!this.connections.delete(connection)) return;
    this.limits.closed(connection.userId);
    this.metrics.streamClosed(reason);
    this.logger.log({
      msg: 'stream closed',
      connectionId: connection.connectionId,
      user: connection.userId,
      topics: connection.topicSet.topics,
      durationMs: Date.now() - connection.openedAt,
      eventsSent: connection.eventsSent,
      reason,
    });
  }

  /**
   * Stops taking streams, at once: readiness fails and new streams get 503 with Retry-After, while
   * every open stream ends with a resume point and reconnects elsewhere. SIGTERM starts it while the
   * instance goes on listening (SHUTDOWN_DELAY_MS); closing the application does it too.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    for (const connection of [...this.connections]) connection.end('shutdown');
  }

  beforeApplicationShutdown(): void {
    this.drain();
  }

  onModuleDestroy(): void {
    this.wheel.stop();
    clearInterval(this.sweeper);
  }
}
