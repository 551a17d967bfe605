import type { FlushScheduler } from './flush-scheduler.js';

/** What the writer needs of a response: Node's ServerResponse is one. */
export interface SseSink {
  write(chunk: string): boolean;
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

/**
 * One stream's frames, coalesced: everything queued in one turn of the event loop (the batches
 * of a fetch from Kafka, a slice of a replay) goes out in one write, which the writer asks the
 * scheduler for. A client that does not read is reported to the caller, never queued for
 * without limit.
 */
export class SseWriter {
  private pending = '';
  private scheduled = false;
  private closed = false;
  /** The socket refused more at the last write and has not drained since. */
  private backedUp = false;
  private waitingForDrain: (() => void) | undefined;
  private readonly drained = (): void => {
    this.backedUp = false;
  };

  /**
   * @param maxPending characters that may wait for a client whose socket is backed up; past
   * them, enqueue answers false and the stream should be dropped (its client resumes).
   */
  constructor(
    private readonly sink: SseSink,
    private readonly maxPending: number,
    private readonly scheduler: FlushScheduler,
  ) {}

  /** Characters queued here or in the socket, not yet taken by the client. */
  get backlog(): number {
    return this.pending.length + this.sink.writableLength;
  }

  /** Queues a frame. Returns false when the client does not read, without queueing it. */
  enqueue(frame: string): boolean {
    if (this.closed) return true;
    // Only a socket that is backed up counts: a burst to a client that reads is written out. The
    // socket is asked only then: its getters cost more than the rest of a delivery.
    if (this.backedUp && this.backlog + frame.length > this.maxPending) return false;
    this.pending += frame;
    if (!this.scheduled) {
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
    if (!this.sink.write(chunk) && !this.backedUp) {
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
