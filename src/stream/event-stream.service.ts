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
import { OwnershipService } from '../event-bus/ownership.service.js';
import { STREAM_HUB, type StreamHub } from '../event-bus/stream-hub.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OwnershipMetrics } from '../metrics/ownership.metrics.js';
import { FlushScheduler } from './flush-scheduler.js';
import { OwnerRouteException } from './owner-route.filter.js';
import { namedNode, routeStream } from './owner-routing.js';
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
    private readonly metrics: MetricsService,
    private readonly ownership: OwnershipService,
    private readonly ownershipMetrics: OwnershipMetrics,
  ) {
    const { stream, kafka } = config;
    this.settings = {
      configuredTopics: kafka.topics,
      heartbeatMs: stream.heartbeatMs,
      retryMs: stream.retryMs,
      maxLifetimeMs: stream.maxLifetimeMs,
      slowClientMaxPending: SLOW_CLIENT_MAX_PENDING,
      logEndRefreshMs: kafka.metadataRefreshMs,
      ...(ownership.enabled ? { resumeScope: (userId: string) => ownership.resumeScope(userId) } : {}),
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
   * The user's stream on the topics asked for, resumed after `lastEventId` when given. Every
   * refusal (400, 403, 429, 503) is thrown here, before any stream starts; so is, in
   * partition-owner mode, a stream that belongs to another instance (`nodeQuery`: the `node` the
   * request names).
   */
  open(
    user: AuthUser,
    topicsQuery: unknown,
    lastEventId: string | undefined,
    response: ServerResponse,
    requestId: string,
    nodeQuery?: unknown,
  ): Observable<MessageEvent> {
    if (this.ownership.enabled) {
      // A bad request is answered here rather than after a redirect; a draining instance redirects.
      selectTopics(this.config.kafka.topics, user.topics, topicsQuery);
      this.routeToOwner(user.id, nodeQuery);
    }
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
      // The partition may have moved since the request was routed: no stream starts off its owner.
      if (this.ownership.enabled && !this.servesHere(user.id)) {
        this.ownershipMetrics.redirected('soft-retry');
        observer.error(
          new OwnerRouteException({ kind: 'retry', reason: 'not-ready' }, this.settings.retryMs),
        );
        return;
      }
      response.setHeader(HEARTBEAT_HEADER, String(this.settings.heartbeatMs));
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

  /** Sends a request on to the owner of its user, or to try again, unless this instance serves it. */
  private routeToOwner(userId: string, nodeQuery: unknown): void {
    const route = routeStream({
      servesHere: this.servesHere(userId),
      owner: this.ownership.ownerOf(userId),
      self: this.ownership.node,
      named: namedNode(nodeQuery),
    });
    if (route.kind === 'serve') return;
    this.ownershipMetrics.redirected(route.kind === 'redirect' ? 'not-owner' : 'soft-retry');
    throw new OwnerRouteException(route, this.settings.retryMs);
  }

  private servesHere(userId: string): boolean {
    return !this.draining && this.hub.available && this.ownership.serves(userId);
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
}
