import type { GatewayEvent } from '../log/gateway-event.js';
import { formatEventId, type LogPosition } from '../log/log-position.js';
import type { HistoryGap, LogReader } from '../log/partition-log.js';
import { eventFrame } from '../sse/sse-frame.js';

/** What a resume needs of its stream. */
export interface ResumeHost {
  readonly log: LogReader;
  readonly userId: string;
  readonly topics: readonly string[];
  /** Queues an event's frame; false when the client does not read (the resume stops, the stream is dropped). */
  enqueue(frame: string): boolean;
  /** Calls `next` once the socket takes more. */
  whenWritable(next: () => void): void;
  /** Live events from now on: they are held (see `hold`) until the resume is over. */
  subscribe(): void;
  /** The client was given everything before `given`; `held` live frames go out after it. */
  caughtUp(given: LogPosition, held: readonly string[]): void;
  /** What the client missed cannot be served: it refetches its state, the stream goes live. */
  gap(reason: HistoryGap, given: LogPosition): void;
  /** Events the replay store gave, for the metrics. */
  replayed(events: number): void;
  drop(): void;
}

/** A replay is written this many characters at a time, each slice once the socket takes more. */
const REPLAY_SLICE = 64 * 1024;

/**
 * A stream's way back to where its client stood, without a gap or a duplicate: what the replay
 * store no longer holds is read from Kafka first (a catch-up, not yet subscribed to live events),
 * then what the store holds is written in slices as the client reads (live events held meanwhile,
 * up to the slow-client bound), then the stream is live. `given` is the resume point all along:
 * every event written carries it in its id, a heartbeat or an end too.
 */
export class StreamResume {
  private cancelCatchUp: (() => void) | undefined;
  private replay: { readonly events: readonly GatewayEvent[]; next: number } | undefined;
  private held: string[] = [];
  private heldLength = 0;
  private over = false;

  constructor(
    private readonly host: ResumeHost,
    readonly given: LogPosition,
    private readonly maxHeld: number,
  ) {}

  /** Takes the next step: a catch-up from Kafka, or the replay store then live. */
  next(): void {
    if (this.over) return;
    const { log, userId, topics } = this.host;
    const source = log.resume(userId, topics, this.given);
    switch (source.kind) {
      case 'gap':
        return this.stop(() => this.host.gap(source.reason, this.given));
      case 'kafka':
        this.cancelCatchUp = log.catchUp(source.request, {
          events: (topic, partition, events, next) => this.caughtUpTo(topic, partition, events, next),
          caughtUp: () => this.next(),
          expired: () => this.stop(() => this.host.gap('expired', this.given)),
        });
        return;
      case 'store':
        this.host.replayed(source.events.length);
        this.host.subscribe();
        this.replay = { events: source.events, next: 0 };
        this.writeReplaySlice();
    }
  }

  /** A live frame that came during the replay; false when the client holds too much. */
  hold(frame: string): boolean {
    this.held.push(frame);
    this.heldLength += frame.length;
    return this.heldLength <= this.maxHeld;
  }

  /** The stream went away. */
  cancel(): void {
    this.over = true;
    this.cancelCatchUp?.();
    this.replay = undefined;
  }

  private caughtUpTo(topic: string, partition: number, events: readonly GatewayEvent[], next: number): void {
    if (this.over) return;
    for (const event of events) if (!this.write(event)) return;
    this.given.set(topic, partition, next);
  }

  private writeReplaySlice(): void {
    const replay = this.replay;
    if (!replay || this.over) return;
    let written = 0;
    while (replay.next < replay.events.length && written < REPLAY_SLICE) {
      const event = replay.events[replay.next++]!;
      written += event.data.length;
      if (!this.write(event)) return;
    }
    if (replay.next < replay.events.length) {
      this.host.whenWritable(() => this.writeReplaySlice());
      return;
    }
    const held = this.held;
    this.stop(() => this.host.caughtUp(this.given, held));
  }

  private write(event: GatewayEvent): boolean {
    this.given.set(event.topic, event.partition, event.offset + 1);
    if (this.host.enqueue(eventFrame(event, formatEventId(event, this.given.format(this.host.topics)))))
      return true;
    this.cancel();
    this.host.drop();
    return false;
  }

  private stop(then: () => void): void {
    this.cancel();
    then();
  }
}
