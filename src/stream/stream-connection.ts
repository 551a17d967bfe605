import type { AuthUser } from '../auth/auth-user.js';
import type { HubSubscriber, StreamHub, TopicSet } from '../event-bus/stream-hub.js';
import type { GatewayEvent } from '../log/gateway-event.js';
import { formatEventId, type LogPosition } from '../log/log-position.js';
import type { LogReader } from '../log/partition-log.js';
import type { ResumeScope } from '../ownership/ownership.js';
import type { FlushScheduler } from '../sse/flush-scheduler.js';
import type { BridgedStream, SseSink } from '../sse/nest-sse.bridge.js';
import {
  checkpointFrame,
  eventFrame,
  openingMessage,
  resetFrame,
  type FrameCache,
} from '../sse/sse-frame.js';
import { SseWriter } from '../sse/sse-writer.js';
import { planResume, type ResumeFrom, type ResumePlan } from './resume-plan.js';
import { StreamPosition } from './stream-position.js';
import type { TimerWheel, WheelTask } from './timer-wheel.js';

/** Why the gateway ended a stream; `moved`: its user's partition moved to another owner. */
export type StreamEndReason = 'expired' | 'lifetime' | 'shutdown' | 'unavailable' | 'moved';
/** Why a stream closed: the gateway ended it, the client left, or it did not read. */
export type StreamCloseReason = StreamEndReason | 'client' | 'slow';

export interface StreamSettings {
  readonly configuredTopics: readonly string[];
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly maxLifetimeMs: number;
  /** Characters a stream may hold for a client that does not read, queued and in its socket. */
  readonly slowClientMaxPending: number;
  /** How often the instance refreshes log ends: a claimed position is checked against them. */
  readonly logEndRefreshMs: number;
}

/** What a connection needs of the one that holds every stream. */
export interface ConnectionOwner {
  readonly hub: StreamHub;
  readonly log: LogReader;
  readonly wheel: TimerWheel;
  readonly frames: FrameCache;
  readonly flushes: FlushScheduler;
  readonly settings: StreamSettings;
  /** The slots of a resume point that concern `userId`. */
  resumeScope(userId: string): ResumeScope;
  /** The stream is open and live (or replaying), after `plan`. */
  opened(connection: StreamConnection, plan: ResumePlan): void;
  /** The stream is over and released: count it, log it, free its slot. */
  closed(connection: StreamConnection, reason: StreamCloseReason, backlog: number): void;
}

/** Streams end somewhere in the last fifth of their lifetime, so reconnections spread out. */
const LIFETIME_JITTER = 0.2;
/** A replay is written this many characters at a time, each slice once the socket takes more. */
const REPLAY_SLICE = 64 * 1024;

/** A replay in progress: its events, how far it got, and the cursor moved past what was written. */
interface Replay {
  readonly events: readonly GatewayEvent[];
  next: number;
  readonly cursor: LogPosition;
  /** Live frames that came meanwhile; they go out after the replay, in order. */
  held: string[];
  heldLength: number;
}

/**
 * One client's stream, from open to close: it resumes, follows the event bus live, sends
 * heartbeats, and ends at token expiry, at the end of its lifetime, at shutdown, or when the
 * instance cannot follow Kafka. It writes its frames to the sink the Nest–SSE bridge gives it.
 */
export class StreamConnection implements HubSubscriber, WheelTask, BridgedStream {
  timerSlot: number | undefined;
  readonly openedAt = Date.now();
  /** Events sent, replayed ones included; checkpoints and resets are not events. */
  eventsSent = 0;
  private readonly writer: SseWriter;
  private readonly position: StreamPosition;
  private replay: Replay | undefined;
  private unsubscribe: (() => void) | undefined;
  private closeReason: StreamCloseReason | undefined;
  /** What the stream held, queued and in its socket, when it was dropped for not reading. */
  private heldAtDrop = 0;
  private nextBeatAt = 0;
  private endsAt = 0;
  private endsBecause: StreamEndReason = 'lifetime';
  private finished = false;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly user: AuthUser,
    readonly topicSet: TopicSet,
    private readonly sink: SseSink,
    private readonly resumeFrom: ResumeFrom,
    /** For the logs: the connection's own id and the request's. */
    readonly ids: { readonly connectionId: string; readonly requestId: string },
  ) {
    this.writer = new SseWriter(sink, owner.settings.slowClientMaxPending, owner.flushes);
    this.position = new StreamPosition(owner.log, topicSet.topics);
  }

  get userId(): string {
    return this.user.id;
  }

  /**
   * Resumes, subscribes and goes live. The plan, the replay's events and the subscription are
   * taken in one turn of the event loop, so no live event can slip between.
   */
  start(): void {
    const { log, hub, settings } = this.owner;
    const { topics } = this.topicSet;
    const plan = planResume(this.resumeFrom, {
      userId: this.userId,
      topics,
      configuredTopics: settings.configuredTopics,
      scope: this.owner.resumeScope(this.userId),
      log,
    });
    const start = log.liveStart(topics);
    if (plan.kind === 'replay') start.overlay(plan.from);
    const startId = start.format(topics);
    this.sink.open(openingMessage(startId, settings.retryMs));
    if (plan.kind === 'reset') this.writer.enqueue(resetFrame(plan.reason, startId));
    const given = start.snapshot();
    if (plan.kind === 'replay') {
      for (const event of plan.events) given.set(event.topic, event.partition, event.offset + 1);
    }
    this.position.startAt(given, Date.now());
    this.unsubscribe = hub.subscribe(this);
    if (plan.kind === 'replay' && plan.events.length > 0) {
      this.replay = { events: plan.events, next: 0, cursor: start, held: [], heldLength: 0 };
      this.writeReplaySlice();
    }
    const lifetimeEnd = this.openedAt + settings.maxLifetimeMs * (1 - LIFETIME_JITTER * Math.random());
    this.endsBecause = lifetimeEnd < this.user.expiresAt ? 'lifetime' : 'expired';
    this.endsAt = Math.min(lifetimeEnd, this.user.expiresAt);
    this.nextBeatAt = this.openedAt + settings.heartbeatMs;
    this.schedule();
    this.owner.opened(this, plan);
  }

  deliver(event: GatewayEvent, id: string): void {
    if (this.finished) return;
    let frame: string;
    if (this.position.isAhead) {
      if (this.position.has(event)) return;
      frame = eventFrame(event, formatEventId(event, this.position.resumePoint()));
    } else {
      frame = this.owner.frames.frameOf(event, id);
    }
    this.eventsSent++;
    this.write(frame);
  }

  logChanged(topic: string, partition: number): void {
    if (this.finished) return;
    this.position.logChanged(topic, partition);
    this.write(resetFrame('log-changed', this.position.resumePoint()));
  }

  feedLost(): void {
    this.end('unavailable');
  }

  onTimer(now: number): void {
    if (this.finished) return;
    if (now >= this.endsAt) return this.end(this.endsBecause);
    if (this.position.judgeClaim()) this.write(resetFrame('unknown-position', this.position.resumePoint()));
    if (now >= this.nextBeatAt) {
      this.nextBeatAt = now + this.owner.settings.heartbeatMs;
      // A replay in progress keeps the connection busy, and its resume point is not the stream's yet.
      if (!this.replay) this.write(checkpointFrame(this.position.resumePoint(), { comment: '' }));
    }
    this.schedule();
  }

  /** Ends the stream with a resume point (and a reconnection delay when the instance goes away). */
  end(reason: StreamEndReason): void {
    if (this.finished) return;
    this.finished = true;
    this.closeReason = reason;
    // Clients that reconnect because this instance goes away are told how soon to do so.
    const retryMs =
      reason === 'shutdown' || reason === 'unavailable' ? this.owner.settings.retryMs : undefined;
    const resumeAt = this.replay
      ? this.replay.cursor.format(this.topicSet.topics)
      : this.position.resumePoint();
    this.writer.enqueue(
      checkpointFrame(resumeAt, { comment: reason, ...(retryMs === undefined ? {} : { retryMs }) }),
    );
    this.writer.flush();
    this.release();
    this.sink.end();
  }

  /** Nest tore the stream down: the client left, or the end went out. */
  released(): void {
    this.finished = true;
    this.release();
    this.owner.closed(this, this.closeReason ?? 'client', this.heldAtDrop);
  }

  private write(frame: string): void {
    const replay = this.replay;
    if (replay) {
      replay.held.push(frame);
      replay.heldLength += frame.length;
      if (replay.heldLength > this.owner.settings.slowClientMaxPending) this.drop();
      return;
    }
    if (!this.writer.enqueue(frame)) this.drop();
  }

  /** Writes the next slice of the replay, then waits until the socket takes more. */
  private writeReplaySlice(): void {
    const replay = this.replay;
    if (!replay || this.finished) return;
    const { topics } = this.topicSet;
    let written = 0;
    while (replay.next < replay.events.length && written < REPLAY_SLICE) {
      const event = replay.events[replay.next++]!;
      replay.cursor.set(event.topic, event.partition, event.offset + 1);
      const frame = eventFrame(event, formatEventId(event, replay.cursor.format(topics)));
      written += frame.length;
      this.eventsSent++;
      if (!this.writer.enqueue(frame)) return this.drop();
    }
    if (replay.next < replay.events.length) {
      this.writer.whenWritable(() => this.writeReplaySlice());
      return;
    }
    this.replay = undefined;
    for (const frame of replay.held) if (!this.writer.enqueue(frame)) return this.drop();
  }

  /** The client does not read: drop it, so it reconnects and resumes with its last id. */
  private drop(): void {
    if (this.finished) return;
    this.finished = true;
    this.closeReason = 'slow';
    this.heldAtDrop = this.writer.backlog;
    this.release();
    this.sink.destroy();
  }

  private release(): void {
    this.writer.close();
    this.unsubscribe?.();
    this.owner.wheel.cancel(this);
    this.replay = undefined;
  }

  private schedule(): void {
    const claimCheck = this.position.claimCheckDue(this.owner.settings.logEndRefreshMs);
    const at = Math.min(this.endsAt, this.nextBeatAt, claimCheck ?? Infinity);
    this.owner.wheel.schedule(this, at);
  }
}
