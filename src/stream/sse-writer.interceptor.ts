import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type MessageEvent,
  type NestInterceptor,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import { frameOf } from './sse-frame.js';

/**
 * Characters of events that may wait for a client that does not read. Past it, the connection is
 * dropped; the client reconnects with its last id and loses nothing.
 */
export const SLOW_CLIENT_MAX_PENDING = 256 * 1024;

const droppedAsSlow = new WeakSet<ServerResponse>();

/** Whether the writer dropped this response because its client did not read. */
export function wasDroppedAsSlow(response: ServerResponse | undefined): boolean {
  return response !== undefined && droppedAsSlow.has(response);
}

/** Writers with frames waiting, flushed together once per turn of the event loop. */
const dirty = new Set<FrameWriter>();
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  const writers = [...dirty];
  dirty.clear();
  for (const writer of writers) writer.flush();
}

/**
 * One stream's frames, coalesced into one write per turn of the event loop. Nest's SSE writer
 * writes each event to each connection on its own, waiting for the previous write: in the
 * benchmark that was one system call per delivery and most of the CPU of a broadcast.
 */
class FrameWriter {
  private frames: string[] = [];
  private pending = 0;
  private closed = false;
  private whenDone: (() => void) | undefined;

  constructor(private readonly response: ServerResponse) {}

  write(frame: string): void {
    if (this.closed) return;
    this.frames.push(frame);
    this.pending += frame.length;
    // Only a socket that is backed up counts: a burst to a client that reads is written out.
    if (
      this.response.writableNeedDrain &&
      this.pending + this.response.writableLength > SLOW_CLIENT_MAX_PENDING
    ) {
      return this.drop();
    }
    dirty.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  flush(): void {
    if (this.closed) return;
    if (this.response.destroyed || this.response.writableEnded) return this.close();
    // Nest sends the headers on a timer of its own once the stream is subscribed; frames wait for them.
    if (!this.response.headersSent) {
      setTimeout(() => this.flush(), 0);
      return;
    }
    if (this.frames.length > 0) {
      this.response.write(this.frames.length === 1 ? this.frames[0]! : this.frames.join(''));
      this.frames = [];
      this.pending = 0;
    }
    const done = this.whenDone;
    this.whenDone = undefined;
    done?.();
  }

  /** Calls `done` once every frame so far is written (at once if there is none). */
  afterFlush(done: () => void): void {
    if (this.frames.length === 0 || this.closed) return done();
    this.whenDone = done;
    dirty.add(this);
    this.flush();
  }

  close(): void {
    this.closed = true;
    this.frames = [];
    dirty.delete(this);
  }

  /** The client does not read: drop it as Nest would, so it reconnects and resumes. */
  private drop(): void {
    this.close();
    droppedAsSlow.add(this.response);
    this.response.destroy();
  }
}

/**
 * Writes the handler's `Observable<MessageEvent>` to the response itself, formatted once per event
 * and coalesced per connection; Nest's @Sse machinery still opens (headers, 4xx before the stream)
 * and closes the stream, and tells the handler when the client left.
 */
@Injectable()
export class SseWriterInterceptor implements NestInterceptor<MessageEvent, MessageEvent> {
  intercept(context: ExecutionContext, next: CallHandler<MessageEvent>): Observable<MessageEvent> {
    const response = context.switchToHttp().getResponse<ServerResponse>();
    const messages = next.handle();
    return new Observable<MessageEvent>((nest) => {
      const writer = new FrameWriter(response);
      const subscription = messages.subscribe({
        next: (message) => writer.write(frameOf(message)),
        error: (err: unknown) => writer.afterFlush(() => nest.error(err)),
        complete: () => writer.afterFlush(() => nest.complete()),
      });
      return () => {
        subscription.unsubscribe();
        writer.close();
      };
    });
  }
}
