import type { MessageEvent } from '@nestjs/common';
import type { Subscriber as Observer } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import type { GatewayConfig } from '../config/gateway.config.js';
import type { EventBusService } from '../event-bus/event-bus.service.js';
import { formatCursor, formatEventId, type MutableCursor } from '../event-bus/event-id.js';
import type { GatewayEvent } from '../event-bus/gateway-event.js';
import { planResume, RESET_MESSAGES, type ResumePlan } from './resume-plan.js';

/** setTimeout fires at once for delays past 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** Streams end somewhere in the last fifth of their lifetime, so reconnections spread out. */
const LIFETIME_JITTER = 0.2;

export type StreamEndReason = 'expired' | 'lifetime' | 'shutdown';

/**
 * A resume point without an event. Browsers take the id of a block with no data without
 * dispatching anything, but many SSE libraries only take ids of blocks with a data line, so it
 * gets an empty one under a reserved type no application listens to.
 */
function checkpoint(id: string): MessageEvent {
  return { type: 'checkpoint', id, data: '' };
}

/**
 * One client's stream: resumes it from its last event id, then follows the bus live, with
 * heartbeats, and ends it at token expiry, at the end of its lifetime or at shutdown.
 */
export class UserStream {
  /**
   * Where this stream is ahead of the instance (it came from a faster one): events before these
   * offsets were given already. Cleared once the instance catches up, which is the usual case.
   */
  private floor: MutableCursor | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  /** Why the gateway ended the stream; undefined while open or when the client left. */
  endReason: StreamEndReason | undefined;
  /** Events sent, replayed ones included; checkpoints and resets are not events. */
  eventsSent = 0;

  constructor(
    private readonly observer: Observer<MessageEvent>,
    private readonly user: AuthUser,
    private readonly topics: readonly string[],
    private readonly bus: EventBusService,
    private readonly config: GatewayConfig,
  ) {}

  /** Everything here runs in one turn of the event loop, so no live event can slip between. */
  start(lastEventId: string | undefined): ResumePlan {
    const plan = planResume(lastEventId, this.user.id, this.topics, this.config.kafka.topics, this.bus);
    const start = this.startCursor(plan);
    const startId = formatCursor(start, this.topics);
    this.observer.next({ ...checkpoint(startId), retry: this.config.stream.retryMs });
    if (plan.kind === 'reset') {
      this.observer.next({
        type: 'reset',
        id: startId,
        data: JSON.stringify({ reason: plan.reason, message: RESET_MESSAGES[plan.reason] }),
      });
    }
    if (plan.kind === 'replay') this.replay(plan.events, start);
    else this.floor = this.aheadOfInstance(start);
    this.unsubscribe = this.bus.subscribe({
      userId: this.user.id,
      topics: this.topics,
      deliver: (event, id) => this.deliver(event, id),
    });
    const { heartbeatMs, maxLifetimeMs } = this.config.stream;
    this.timers.push(
      setInterval(() => this.observer.next({ ...checkpoint(this.checkpoint()), comment: '' }), heartbeatMs),
    );
    const lifetimeEnd = Date.now() + maxLifetimeMs * (1 - LIFETIME_JITTER * Math.random());
    this.endAt(
      Math.min(this.user.expiresAt, lifetimeEnd),
      lifetimeEnd < this.user.expiresAt ? 'lifetime' : 'expired',
    );
    return plan;
  }

  /** Ends the stream with a resume point and, at shutdown, a reconnection delay. */
  end(reason: StreamEndReason): void {
    if (this.observer.closed) return;
    this.endReason = reason;
    const retry = reason === 'shutdown' ? { retry: this.config.stream.retryMs } : {};
    this.observer.next({ ...checkpoint(this.checkpoint()), comment: reason, ...retry });
    this.observer.complete();
  }

  stop(): void {
    this.unsubscribe?.();
    this.timers.forEach((timer) => clearTimeout(timer));
  }

  /**
   * Where the stream starts: the client's cursor for what it names, the live start for the rest.
   * A stream without a usable id starts live.
   */
  private startCursor(plan: ResumePlan): MutableCursor {
    const cursor = this.bus.liveStart(this.topics);
    if (plan.kind !== 'replay') return cursor;
    for (const [topic, offsets] of plan.from) {
      const merged = cursor.get(topic);
      for (const [partition, offset] of offsets) merged?.set(partition, offset);
    }
    return cursor;
  }

  /**
   * Replays in processing order. Each id is the client's cursor moved past that event, so a stream
   * cut in the middle of a replay resumes from the right place.
   */
  private replay(events: GatewayEvent[], cursor: MutableCursor): void {
    for (const event of events) {
      cursor.get(event.topic)?.set(event.partition, event.offset + 1n);
      this.observer.next({
        type: event.type,
        id: formatEventId(event, formatCursor(cursor, this.topics)),
        data: event.data,
      });
    }
    this.eventsSent += events.length;
    this.floor = this.aheadOfInstance(cursor);
  }

  private deliver(event: GatewayEvent, id: string): void {
    if (this.floor) {
      const floor = this.floor.get(event.topic)?.get(event.partition);
      if (floor !== undefined && event.offset < floor) return;
      id = formatEventId(event, this.checkpoint());
    }
    this.eventsSent++;
    this.observer.next({ type: event.type, id, data: event.data });
  }

  /** The stream's resume point: the instance's positions, or the floor where that is ahead. */
  private checkpoint(): string {
    if (!this.floor) return this.bus.checkpoint(this.topics);
    const cursor = this.bus.positionsOf(this.topics);
    for (const [topic, offsets] of this.floor) {
      for (const [partition, offset] of offsets) {
        if (offset > (cursor.get(topic)?.get(partition) ?? -1n)) cursor.get(topic)?.set(partition, offset);
      }
    }
    this.floor = this.aheadOfInstance(cursor);
    return formatCursor(cursor, this.topics);
  }

  /** The entries of `cursor` the instance has not reached yet, or undefined if there are none. */
  private aheadOfInstance(cursor: MutableCursor): MutableCursor | undefined {
    let ahead: MutableCursor | undefined;
    for (const [topic, offsets] of cursor) {
      for (const [partition, offset] of offsets) {
        if (offset <= (this.bus.nextOffset(topic, partition) ?? -1n)) continue;
        ahead ??= new Map<string, Map<number, bigint>>();
        let entry = ahead.get(topic);
        if (!entry) ahead.set(topic, (entry = new Map<number, bigint>()));
        entry.set(partition, offset);
      }
    }
    return ahead;
  }

  private endAt(epochMs: number, reason: StreamEndReason): void {
    const arm = (): void => {
      const delay = epochMs - Date.now();
      if (delay <= 0) return this.end(reason);
      this.timers.push(setTimeout(arm, Math.min(delay, MAX_TIMER_DELAY_MS)));
    };
    arm();
  }
}
