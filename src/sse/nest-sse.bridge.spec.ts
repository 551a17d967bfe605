import type { MessageEvent } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { bridgeToNest, type BridgedStream, type SseSink } from './nest-sse.bridge.js';

/** A response as Nest leaves it to the stream, headers sent or not by Nest's first message. */
class FakeResponse extends EventEmitter {
  headersSent = false;
  written: string[] = [];
  destroyed = false;
  writableLength = 0;

  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }

  destroy(): void {
    this.destroyed = true;
  }
}

describe(bridgeToNest.name, () => {
  let response: FakeResponse;
  let events: string[];

  beforeEach(() => {
    response = new FakeResponse();
    events = [];
  });

  /** Subscribes as Nest does: the first message goes out with the headers when `sendsHeaders`. */
  function subscribe(start: (sink: SseSink) => void, sendsHeaders = true) {
    const stream: BridgedStream & { sink?: SseSink } = {
      start: () => start(stream.sink!),
      released: () => events.push('released'),
    };
    return bridgeToNest(response as unknown as ServerResponse, (sink) => {
      stream.sink = sink;
      return stream;
    }).subscribe({
      next: (message: MessageEvent) => {
        if (sendsHeaders) response.headersSent = true;
        events.push(`next ${message.type}`);
      },
      error: (err: Error) => events.push(`error ${err.message}`),
      complete: () => events.push('complete'),
    });
  }

  it('should open through Nest, write past it, and end through it, releasing the stream', () => {
    subscribe((sink) => {
      sink.open({ type: 'checkpoint', data: '' });
      sink.write('event: x\n\n');
      sink.end();
    });

    expect(events).toEqual(['next checkpoint', 'complete', 'released']);
    expect(response.written).toEqual(['event: x\n\n']);
  });

  it('should release a stream whose start throws, as its teardown is in place before it starts', () => {
    subscribe(() => {
      throw new Error('the plan failed');
    });

    expect(events).toEqual(['error the plan failed', 'released']);
  });

  it('should refuse to go on when Nest did not send the headers with the first message', () => {
    subscribe((sink) => {
      sink.open({ type: 'checkpoint', data: '' });
      sink.write('never');
    }, false);

    expect(events).toEqual([
      'next checkpoint',
      'error Nest did not send the stream headers with its first message',
      'released',
    ]);
    expect(response.written).toEqual([]);
  });

  it('should release the stream when Nest unsubscribes (the client left)', () => {
    const subscription = subscribe((sink) => sink.open({ type: 'checkpoint', data: '' }));

    subscription.unsubscribe();

    expect(events).toEqual(['next checkpoint', 'released']);
  });
});
