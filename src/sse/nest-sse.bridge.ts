import type { MessageEvent } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Observable, type Subscriber } from 'rxjs';
import type { WritableSink } from './sse-writer.js';

/** A stream's way to its client: opened with its first message, then written to directly. */
export interface SseSink extends WritableSink {
  /** Sends the status, the headers and `first`; every later frame is written after them. */
  open(first: MessageEvent): void;
  /** Ends the stream; the response ends once what was written went out. */
  end(): void;
  /** Cuts the connection at once (a client that does not read). */
  destroy(): void;
}

/** What runs over the bridge: started once its teardown is in place, released when Nest tears it down. */
export interface BridgedStream {
  start(): void;
  released(): void;
}

/**
 * The one place that knows how Nest's `@Sse()` handles the observable a route returns: Nest
 * writes the status and the headers with the first message, ends the response when the observable
 * completes, sends an error that comes before the first message to the exception filters, and
 * unsubscribes when the client leaves. After the first message the gateway writes its frames to
 * the response itself (one frame is formatted once for thousands of streams), so the sink checks
 * that the headers went out with that message and refuses to go on otherwise.
 *
 * `create` may throw to refuse the stream before anything is written (a GatewayError, or a
 * partition-owner redirect); once it returns, the stream's teardown is registered before it starts.
 */
export function bridgeToNest(
  response: ServerResponse,
  create: (sink: SseSink) => BridgedStream,
): Observable<MessageEvent> {
  return new Observable<MessageEvent>((observer) => {
    const stream = create(new NestSseSink(observer, response));
    observer.add(() => stream.released());
    stream.start();
  });
}

class NestSseSink implements SseSink {
  constructor(
    private readonly observer: Subscriber<MessageEvent>,
    private readonly response: ServerResponse,
  ) {}

  open(first: MessageEvent): void {
    this.observer.next(first);
    if (!this.response.headersSent) {
      throw new Error('Nest did not send the stream headers with its first message');
    }
  }

  write(chunk: string): boolean {
    return this.response.write(chunk);
  }

  get writableLength(): number {
    return this.response.writableLength;
  }

  once(event: 'drain', listener: () => void): this {
    this.response.once(event, listener);
    return this;
  }

  removeListener(event: 'drain', listener: () => void): this {
    this.response.removeListener(event, listener);
    return this;
  }

  end(): void {
    this.observer.complete();
  }

  destroy(): void {
    this.response.destroy();
  }
}
