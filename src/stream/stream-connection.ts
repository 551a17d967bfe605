import type { MessageEvent } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Subscriber as Observer } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import type { GatewayEvent } from '../event-bus/gateway-event.js';
import { formatEventId, type LogPosition } from '../event-bus/log-position.js';
import type { HubSubscriber, StreamHub, TopicSet } from '../event-bus/stream-hub.js';
import type { FlushScheduler } from './flush-scheduler.js';
import { checkpointFrame, eventFrame, type FrameCache } from './sse-frame.js';
import { SseWriter } from './sse-writer.js';
import {
  planResume,
  RESET_MESSAGES,
  type ResetReason,
  type ResumePlan,
  type ResumeScope,
} from './resume-plan.js';
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
  /** Characters of events that may wait for a client that does not read. */
  readonly slowClientMaxPending: number;
  /** How often the instance refreshes log ends: a claimed position is checked against them. */
  readonly logEndRefreshMs: number;
  /** Partition-owner mode: the slots of a resume point that matter for a user (see planResume). */
  readonly resumeScope?: (userId: string) => ResumeScope;
}

/** What a connection needs of the one that holds every stream. */
export interface ConnectionOwner {
  readonly hub: StreamHub;
  readonly wheel: TimerWheel;
  readonly frames: FrameCache;
  readonly flushes: FlushScheduler;
  readonly settings: StreamSettings;
  /** The stream is over and released: count it, log it, free its slot. */
  closed(connection: StreamConnection, reason: StreamCloseReason): void;
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
 * One client's stream, from open to close: it resumes from the last event id, follows the hub
 * live, sends heartbeats, and ends at token expiry, at the end of its lifetime, at shutdown, or
 * when the instance cannot follow Kafka. Nest opens the stream (status and headers, with the
 * first message) and closes it; in between, the connection writes its frames to the response
 * itself, through its own writer.
 */
export class StreamConnection implements HubSubscriber, WheelTask {
  timerSlot: number | undefined;
  readonly openedAt = Date.now();
  /** Events sent, replayed ones included; checkpoints and resets are not events. */
  eventsSent = 0;
  private readonly writer: SseWriter;
  /**
   * Where this stream is ahead of the instance (it came from a faster one): events before these
   * offsets were given already. Cleared once the instance catches up, which is the usual case.
   */
  private clientAhead: LogPosition | undefined;
  /** Since when the stream claims positions past the log ends known then; checked against newer ones. */
  private aheadSince: number | undefined;
  private replay: Replay | undefined;
  private unsubscribe: (() => void) | undefined;
  private closeReason: StreamCloseReason | undefined;
  private nextBeatAt = 0;
  private endsAt = 0;
  private endsBecause: StreamEndReason = 'lifetime';
  private finished = false;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly user: AuthUser,
    readonly topicSet: TopicSet,
    private readonly response: ServerResponse,
    private readonly observer: Observer<MessageEvent>,
    readonly connectionId: string,
  ) {
    this.writer = new SseWriter(response, owner.settings.slowClientMaxPending, owner.flushes);
  }

  get userId(): string {
    return this.user.id;
  }

  /**
   * Resumes from `lastEventId`, subscribes and goes live. The plan, the replay's events and the
   * subscription are taken in one turn of the event loop, so no live event can slip between.
   */
  start(lastEventId: string | undefined): ResumePlan {
    const { hub, settings } = this.owner;
    const scope = settings.resumeScope?.(this.userId);
    const plan = planResume(lastEventId, this.userId, this.topicSet, settings.configuredTopics, hub, scope);
    const start = hub.liveStart(this.topicSet);
    if (plan.kind === 'replay') start.overlay(plan.from);
    const startId = start.format(this.topicSet.topics);
    // Nest sends the status and the headers with this first message; everything after goes
    // through the writer, which must never write before them.
    this.observer.next({ type: 'checkpoint', id: startId, data: '', retry: settings.retryMs });
    if (!this.response.headersSent) {
      throw new Error('Nest did not send the stream headers with its first message');
    }
    if (plan.kind === 'reset') this.writer.enqueue(resetFrame(plan.reason, startId));
    const afterReplay = start.snapshot();
    if (plan.kind === 'replay') {
      for (const event of plan.events) afterReplay.set(event.topic, event.partition, event.offset + 1);
    }
    this.clientAhead = afterReplay.aheadOf(hub.position(this.topicSet));
    if (this.clientAhead && this.claimsPastLogEnd()) this.aheadSince = Date.now();
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
    return plan;
  }

  deliver(event: GatewayEvent, id: string): void {
    if (this.finished) return;
    let frame: string;
    if (this.clientAhead) {
      const given = this.clientAhead.get(event.topic, event.partition);
      if (given !== undefined && event.offset < given) return;
      frame = eventFrame(event, formatEventId(event, this.resumePoint()));
    } else {
      frame = this.owner.frames.frameOf(event, id);
    }
    this.eventsSent++;
    this.write(frame);
  }

  logChanged(topic: string, partition: number): void {
    if (this.finished) return;
    this.clientAhead?.delete(topic, partition);
    this.write(resetFrame('log-changed', this.resumePoint()));
  }

  feedLost(): void {
    this.end('unavailable');
  }

  onTimer(now: number): void {
    if (this.finished) return;
    if (now >= this.endsAt) return this.end(this.endsBecause);
    if (this.aheadSince !== undefined) this.checkClaimedPosition();
    if (now >= this.nextBeatAt) {
      this.nextBeatAt = now + this.owner.settings.heartbeatMs;
      // A replay in progress keeps the connection busy, and its resume point is not the stream's yet.
      if (!this.replay) this.write(checkpointFrame(this.resumePoint(), { comment: '' }));
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
    const resumeAt = this.replay ? this.replay.cursor.format(this.topicSet.topics) : this.resumePoint();
    this.writer.enqueue(
      checkpointFrame(resumeAt, { comment: reason, ...(retryMs === undefined ? {} : { retryMs }) }),
    );
    this.writer.flush();
    this.release();
    this.observer.complete();
  }

  /** Nest tore the stream down: the client left, or the end went out. */
  released(): void {
    this.finished = true;
    this.release();
    this.owner.closed(this, this.closeReason ?? 'client');
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

  /**
   * The stream's resume point: the instance's position, or the client's where that is ahead.
   * Once the instance has caught up everywhere, it is the cached cursor text of the topics.
   */
  private resumePoint(): string {
    const { hub } = this.owner;
    if (!this.clientAhead) return hub.cursorText(this.topicSet);
    const position = hub.position(this.topicSet);
    const merged = position.snapshot().mergeMax(this.clientAhead);
    this.clientAhead = merged.aheadOf(position);
    if (!this.clientAhead) this.aheadSince = undefined;
    return merged.format(this.topicSet.topics);
  }

  private claimsPastLogEnd(): boolean {
    for (const [topic, partition, offset] of this.clientAhead?.entries() ?? []) {
      const { end } = this.owner.hub.logEndOf(topic, partition);
      if (end === undefined || offset > end) return true;
    }
    return false;
  }

  /**
   * A client may come from an instance ahead of this one, but not from beyond the end of the log:
   * such a position is from another log (a recreated topic, another cluster). Once log ends newer
   * than the stream are known, partitions it still claims past them are reset to the instance's.
   */
  private checkClaimedPosition(): void {
    const since = this.aheadSince!;
    const wrong: Array<[string, number]> = [];
    for (const [topic, partition, offset] of this.clientAhead?.entries() ?? []) {
      const { end, seenAt } = this.owner.hub.logEndOf(topic, partition);
      // Not judged on a log end older than the stream: the client's instance may have known more.
      if (seenAt <= since) return;
      if (end === undefined || offset > end) wrong.push([topic, partition]);
    }
    this.aheadSince = undefined;
    if (wrong.length === 0) return;
    for (const [topic, partition] of wrong) this.clientAhead?.delete(topic, partition);
    this.write(resetFrame('unknown-position', this.resumePoint()));
  }

  /** The client does not read: drop it, so it reconnects and resumes with its last id. */
  private drop(): void {
    if (this.finished) return;
    this.finished = true;
    this.closeReason = 'slow';
    this.release();
    this.response.destroy();
  }

  private release(): void {
    this.writer.close();
    this.unsubscribe?.();
    this.owner.wheel.cancel(this);
    this.replay = undefined;
  }

  private schedule(): void {
    let at = Math.min(this.endsAt, this.nextBeatAt);
    if (this.aheadSince !== undefined)
      at = Math.min(at, this.aheadSince + this.owner.settings.logEndRefreshMs + 500);
    this.owner.wheel.schedule(this, at);
  }
}

function resetFrame(reason: ResetReason, id: string): string {
  const data = JSON.stringify({ reason, message: RESET_MESSAGES[reason] });
  return `event: reset\nid: ${id}\ndata: ${data}\n\n`;
}
