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
import type { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { STREAM_HUB, type StreamHub } from '../event-bus/stream-hub.js';
import { PARTITION_LOG, type HistoryGap, type LogReader } from '../log/partition-log.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OwnerRouteException } from '../ownership/owner-route.filter.js';
import { OWNERSHIP, type Ownership, type ResumeScope } from '../ownership/ownership.js';
import { FlushScheduler } from '../sse/flush-scheduler.js';
import { bridgeToNest } from '../sse/nest-sse.bridge.js';
import { FrameCache } from '../sse/sse-frame.js';
import { checkpointLookUp, type ResumePlan } from './resume-plan.js';
import {
  StreamConnection,
  type ConnectionOwner,
  type StreamCloseReason,
  type StreamSettings,
} from './stream-connection.js';
import { StreamLimits } from './stream-limits.js';
import type { StreamRequest } from './stream-request.js';
import { TimerWheel } from './timer-wheel.js';
import { selectTopics } from './topic-selection.js';

/**
 * Characters of events a stream may hold for a client that does not read. Past it, the
 * connection is dropped; the client reconnects with its last id and loses nothing.
 */
export const SLOW_CLIENT_MAX_PENDING = 256 * 1024;
const TIMER_RESOLUTION_MS = 250;
/**
 * The heartbeat interval, given with the stream's headers: a client that hears nothing for about
 * twice as long knows the connection is dead (a proxy or a NAT dropped it without a word).
 */
export const HEARTBEAT_HEADER = 'SSE-Heartbeat-Ms';
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
    @Inject(PARTITION_LOG) readonly log: LogReader,
    private readonly metrics: MetricsService,
    @Inject(OWNERSHIP) private readonly ownership: Ownership,
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
    // Partition-owner mode: the streams of a partition that moved end with their resume point, and
    // their clients reconnect to the new owner.
    ownership.onMoved((moved) => {
      for (const connection of [...this.connections]) if (moved(connection.userId)) connection.end('moved');
    });
  }

  get openStreams(): number {
    return this.connections.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * The user's stream on the topics asked for, resumed where the request says. Every refusal
   * (400, 403, 429, 503, and in partition-owner mode a redirect or a soft retry) is thrown here,
   * before any stream starts.
   */
  open(
    user: AuthUser,
    request: StreamRequest,
    response: ServerResponse,
    requestId: string,
  ): Observable<MessageEvent> {
    const topics = this.hub.topicSet(selectTopics(this.config.kafka.topics, user.topics, request.topics));
    this.route(user.id, request.node);
    if (this.draining) {
      throw new GatewayError(
        'shutting-down',
        'The gateway is shutting down; reconnect to another instance',
        Math.max(1, Math.ceil(this.settings.retryMs / 1000)),
      );
    }
    if (!this.log.available) {
      throw new GatewayError(
        'not-consuming',
        'This instance cannot follow Kafka; reconnect to another instance',
      );
    }
    this.limits.admit(user.id);
    return bridgeToNest(response, (sink) => {
      // The partition may have moved since the request was routed: no stream starts off its owner.
      this.route(user.id, undefined);
      // Only a stream that starts here spends its ticket; a client sent elsewhere tries it again.
      user.ticket?.spend();
      response.setHeader(HEARTBEAT_HEADER, String(this.settings.heartbeatMs));
      const connection = new StreamConnection(this, user, topics, sink, request.resumeFrom, {
        connectionId: randomUUID(),
        requestId,
      });
      this.connections.add(connection);
      this.limits.opened(user.id);
      this.metrics.streamOpened();
      return connection;
    });
  }

  /**
   * What must be read before the request's stream can be planned (a checkpoint its id names that
   * this instance does not hold), or undefined: most requests open at once.
   */
  lookUp(request: StreamRequest): Promise<void> | undefined {
    return checkpointLookUp(request.resumeFrom, this.log);
  }

  resumeScope(userId: string): ResumeScope {
    return this.ownership.resumeScope(userId);
  }

  opened(connection: StreamConnection, plan: ResumePlan): void {
    if (plan.kind === 'reset') this.metrics.resetSent(plan.reason);
    this.logger.log({
      msg: 'stream opened',
      requestId: connection.ids.requestId,
      connectionId: connection.ids.connectionId,
      user: connection.userId,
      topics: connection.topicSet.topics,
      resume: plan.kind,
    });
  }

  resumed(outcome: { readonly replayed: number } | { readonly gap: HistoryGap }): void {
    if ('gap' in outcome) this.metrics.resetSent(outcome.gap);
    else this.metrics.replayed(outcome.replayed);
  }

  closed(connection: StreamConnection, reason: StreamCloseReason, heldAtDrop: number): void {
    if (!this.connections.delete(connection)) return;
    this.limits.closed(connection.userId);
    this.metrics.streamClosed(reason, heldAtDrop);
    this.logger.log({
      msg: 'stream closed',
      connectionId: connection.ids.connectionId,
      user: connection.userId,
      topics: connection.topicSet.topics,
      durationMs: Date.now() - connection.openedAt,
      eventsSent: connection.eventsSent,
      reason,
    });
  }

  /**
   * Stops taking streams, at once: readiness fails and new streams get 503 with Retry-After. Open
   * streams go on until the application closes (after SHUTDOWN_DELAY_MS): ended now, their clients
   * would reconnect while load balancers still send them here, and a native EventSource gives up
   * for good on a 503.
   */
  drain(): void {
    this.draining = true;
  }

  /** Ends every open stream with a resume point and a retry hint, so its client reconnects elsewhere. */
  beforeApplicationShutdown(): void {
    this.drain();
    for (const connection of [...this.connections]) connection.end('shutdown');
  }

  onModuleDestroy(): void {
    this.wheel.stop();
    clearInterval(this.sweeper);
  }

  /** Throws a redirect or a soft retry unless this instance serves the user now. */
  private route(userId: string, named: string | undefined): void {
    const route = this.ownership.routeStream(userId, named, !this.draining && this.log.available);
    if (route.kind !== 'serve') throw new OwnerRouteException(route, this.settings.retryMs);
  }
}
