import type { AuthUser } from '../auth/auth-user.js';
import type { HubSubscriber, StreamHub, TopicSet } from '../event-bus/stream-hub.js';
import type { GatewayEvent } from '../log/gateway-event.js';
import { formatEventId, type LogPosition } from '../log/log-position.js';
import type { HistoryGap, LogReader } from '../log/partition-log.js';
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
import { StreamIds } from './stream-ids.js';
import { StreamPosition } from './stream-position.js';
import { StreamResume, type ResumeHost } from './stream-resume.js';
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
  /** The stream is open, and resumes (or not) after `plan`. */
  opened(connection: StreamConnection, plan: ResumePlan): void;
  /** The replay store gave a resuming stream `events`; or what it missed could not be served. */
  resumed(outcome: { readonly replayed: number } | { readonly gap: HistoryGap }): void;
  /** The stream is over and released: count it, log it, free its slot. */
  closed(connection: StreamConnection, reason: StreamCloseReason, backlog: number): void;
}

/** Streams end somewhere in the last fifth of their lifetime, so reconnections spread out. */
const LIFETIME_JITTER = 0.2;

/**
 * One client's stream, from open to close: it resumes, follows the event bus live, sends
 * heartbeats, and ends at token expiry, at the end of its lifetime, at shutdown, or when the
 * instance cannot follow Kafka. It writes its frames to the sink the Nest–SSE bridge gives it.
 */
export class StreamConnection implements HubSubscriber, WheelTask, BridgedStream, ResumeHost {
  timerSlot: number | undefined;
  readonly openedAt = Date.now();
  /** Events sent, replayed ones included; checkpoints and resets are not events. */
  eventsSent = 0;
  private readonly writer: SseWriter;
  private readonly position: StreamPosition;
  private readonly eventIds: StreamIds;
  /** Until the stream is live: how it gets back to where its client stood. */
  private resume: StreamResume | undefined;
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
    this.eventIds = new StreamIds(owner.log, user.id, topicSet.topics);
  }

  get userId(): string {
    return this.user.id;
  }

  /**
   * Resumes, subscribes and goes live. The plan, the replay's events and the subscription are
   * taken in one turn of the event loop, so no live event can slip between.
   */
  start(): void {
    const { log, settings } = this.owner;
    const { topics } = this.topicSet;
    const plan = planResume(this.resumeFrom, {
      topics,
      configuredTopics: settings.configuredTopics,
      scope: this.owner.resumeScope(this.userId),
      log,
    });
    const start = log.liveStart(topics);
    if (plan.kind === 'resume') start.overlay(plan.from);
    const lifetimeEnd = this.openedAt + settings.maxLifetimeMs * (1 - LIFETIME_JITTER * Math.random());
    this.endsBecause = lifetimeEnd < this.user.expiresAt ? 'lifetime' : 'expired';
    this.endsAt = Math.min(lifetimeEnd, this.user.expiresAt);
    this.nextBeatAt = this.openedAt + settings.heartbeatMs;
    // Live at once: the opening id is already the compact one a client reconnects with.
    if (plan.kind !== 'resume') this.goLive(start);
    const startId = plan.kind === 'resume' ? start.format(topics) : this.resumePoint();
    this.sink.open(openingMessage(startId, settings.retryMs));
    if (plan.kind === 'reset') this.writer.enqueue(resetFrame(plan.reason, startId));
    this.schedule();
    this.owner.opened(this, plan);
    if (plan.kind === 'resume') {
      this.resume = new StreamResume(this, start, settings.slowClientMaxPending);
      this.resume.next();
    }
  }

  get topics(): readonly string[] {
    return this.topicSet.topics;
  }

  get log(): LogReader {
    return this.owner.log;
  }

  deliver(event: GatewayEvent, id: string): void {
    if (this.finished) return;
    let frame: string;
    if (this.position.isAhead) {
      if (this.position.has(event)) return;
      frame = eventFrame(event, formatEventId(event, this.position.resumePoint()));
    } else {
      this.eventIds.delivered(event);
      const cursor = this.resume ? undefined : this.eventIds.cursorOf(event);
      frame =
        cursor === undefined
          ? this.owner.frames.frameOf(event, id)
          : this.owner.frames.compactFrameOf(event, cursor);
    }
    this.eventsSent++;
    this.write(frame);
  }

  logChanged(topic: string, partition: number): void {
    if (this.finished) return;
    this.position.logChanged(topic, partition);
    this.eventIds.reset();
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
      // What was written so far is consistent with it, resuming or not: it is not held.
      if (!this.writer.enqueue(checkpointFrame(this.resumePoint(), { comment: '' }))) this.drop();
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
    const resumeAt = this.resumePoint();
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

  // ---- resuming (ResumeHost) -----------------------------------------------------------------

  enqueue(frame: string): boolean {
    this.eventsSent++;
    return this.writer.enqueue(frame);
  }

  whenWritable(next: () => void): void {
    this.writer.whenWritable(next);
  }

  subscribe(): void {
    this.unsubscribe ??= this.owner.hub.subscribe(this);
  }

  caughtUp(given: LogPosition, held: readonly string[]): void {
    this.resume = undefined;
    this.goLive(given);
    for (const frame of held) if (!this.writer.enqueue(frame)) return this.drop();
  }

  gap(reason: HistoryGap, given: LogPosition): void {
    this.owner.resumed({ gap: reason });
    this.resume = undefined;
    // Live from the instance's position; the reset's id is where the client stands then.
    this.goLive(this.owner.log.liveStart(this.topicSet.topics).mergeMax(given));
    this.write(resetFrame(reason, this.position.resumePoint()));
  }

  /** The client was given everything before `given`: live events from now on. */
  private goLive(given: LogPosition): void {
    this.position.startAt(given, Date.now());
    this.eventIds.goLive(given);
    this.subscribe();
    this.schedule();
  }

  replayed(events: number): void {
    this.owner.resumed({ replayed: events });
  }

  /** Where a reconnection resumes: the resume's position until the stream is live. */
  private resumePoint(): string {
    if (this.resume) return this.resume.given.format(this.topicSet.topics);
    return (!this.position.isAhead && this.eventIds.resumePoint()) || this.position.resumePoint();
  }

  /** A live frame: held while the stream resumes. */
  private write(frame: string): void {
    if (this.resume) {
      if (!this.resume.hold(frame)) this.drop();
      return;
    }
    if (!this.writer.enqueue(frame)) this.drop();
  }

  /** The client does not read: drop it, so it reconnects and resumes with its last id. */
  drop(): void {
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
    this.resume?.cancel();
  }

  private schedule(): void {
    const claimCheck = this.position.claimCheckDue(this.owner.settings.logEndRefreshMs);
    const at = Math.min(this.endsAt, this.nextBeatAt, claimCheck ?? Infinity);
    this.owner.wheel.schedule(this, at);
  }
}
