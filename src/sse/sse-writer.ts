import type { FlushScheduler } from './flush-scheduler.js';

/** What the writer needs of a response: Node's ServerResponse is one. */
export interface WritableSink {
  write(chunk: string): boolean;
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

/**
 * A burst is written in slices as it comes, not held until the turn ends: of this many characters,
 * or a quarter of the bound if that is less, so a client that reads takes a burst of any size.
 */
const MAX_SLICE = 64 * 1024;

/**
 * One stream's frames, coalesced: everything queued in one turn of the event loop (the batches
 * of a fetch from Kafka, a slice of a replay) goes out in one write, which the writer asks the
 * scheduler for, or in slices as it comes when it is a burst. A stream never holds more than
 * `maxPending` characters, queued here and held by the socket together: a frame that would pass
 * that is refused, and the caller drops the stream (its client resumes).
 */
export class SseWriter {
  private pending = '';
  /** What the socket held after the last write; nothing once it drained. */
  private socketHeld = 0;
  private readonly slice: number;
  private scheduled = false;
  private closed = false;
  /** The socket refused more at the last write and has not drained since. */
  private backedUp = false;
  private waitingForDrain: (() => void) | undefined;
  private readonly drained = (): void => {
    this.backedUp = false;
    this.socketHeld = 0;
  };

  constructor(
    private readonly sink: WritableSink,
    private readonly maxPending: number,
    private readonly scheduler: FlushScheduler,
  ) {
    this.slice = Math.min(MAX_SLICE, Math.ceil(maxPending / 4));
  }

  /** Characters queued here or held by the socket, not yet taken by the client. */
  get backlog(): number {
    return this.pending.length + this.socketHeld;
  }

  /** Queues a frame. Returns false, queueing nothing, when the stream would hold too much. */
  enqueue(frame: string): boolean {
    if (this.closed) return true;
    if (this.pending.length + this.socketHeld + frame.length > this.maxPending) return false;
    this.pending += frame;
    if (this.pending.length >= this.slice) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      this.scheduler.request(this);
    }
    return true;
  }

  /** Writes what is queued, now. */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    const taken = this.sink.write(chunk);
    this.socketHeld = this.sink.writableLength;
    if (!taken && !this.backedUp) {
      this.backedUp = true;
      this.sink.once('drain', this.drained);
    }
  }

  /** Calls `next` once the socket takes more: at once when it is not backed up. */
  whenWritable(next: () => void): void {
    this.flush();
    if (this.closed) return;
    if (!this.backedUp) {
      setImmediate(next);
      return;
    }
    this.waitingForDrain = () => {
      this.waitingForDrain = undefined;
      next();
    };
    this.sink.once('drain', this.waitingForDrain);
  }

  /** Drops what is queued and writes nothing more. */
  close(): void {
    this.closed = true;
    this.pending = '';
    this.scheduler.cancel(this);
    if (this.waitingForDrain) this.sink.removeListener('drain', this.waitingForDrain);
    this.sink.removeListener('drain', this.drained);
    this.waitingForDrain = undefined;
  }
}
