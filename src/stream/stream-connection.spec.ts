import { jest } from '@jest/globals';
import type { MessageEvent } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Subscriber } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import type { EventBusService } from '../event-bus/event-bus.service.js';
import { LogPosition } from '../event-bus/log-position.js';
import { alice, bob, everyone, eventOf, newBus, positionOf, publish } from '../testing/fixtures.js';
import { FlushScheduler } from './flush-scheduler.js';
import { formatFrame, FrameCache } from './sse-frame.js';
import {
  StreamConnection,
  type ConnectionOwner,
  type StreamCloseReason,
  type StreamSettings,
} from './stream-connection.js';
import { TimerWheel } from './timer-wheel.js';

const SETTINGS: StreamSettings = {
  configuredTopics: ['orders', 'chat', 'alerts'],
  heartbeatMs: 15_000,
  retryMs: 2000,
  maxLifetimeMs: 30 * 60_000,
  slowClientMaxPending: 256 * 1024,
  logEndRefreshMs: 5000,
};

/** A response as the connection sees it: what it wrote, backed up on demand. */
class FakeResponse extends EventEmitter {
  text = '';
  headersSent = false;
  destroyed = false;
  writableLength = 0;
  writableNeedDrain = false;

  write(chunk: string): boolean {
    this.text += chunk;
    if (this.writableNeedDrain) this.writableLength += chunk.length;
    return !this.writableNeedDrain;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** The client reads what waited. */
  drain(): void {
    this.writableNeedDrain = false;
    this.writableLength = 0;
    this.emit('drain');
  }

  /** The SSE blocks written so far, as `event id` pairs (checkpoints and resets included). */
  get blocks(): string[] {
    return this.text
      .split('\n\n')
      .filter((block) => block.trim() !== '')
      .map((block) => block.trim());
  }

  eventsOf(type = 'changed'): Array<{ id: string; data: string }> {
    return this.blocks
      .filter((block) => block.startsWith(`event: ${type}\n`))
      .map((block) => ({ id: /^id: (.*)$/m.exec(block)![1]!, data: /^data: (.*)$/m.exec(block)![1]! }));
  }
}

/** What Nest does with the stream's observable: the first message goes out with the headers. */
function nestObserver(
  response: FakeResponse,
  sendsHeaders = true,
): Subscriber<MessageEvent> & { completed: boolean } {
  const observer = {
    closed: false,
    completed: false,
    next(message: MessageEvent) {
      if (sendsHeaders) response.headersSent = true;
      response.write(`\n${formatFrame(message)}`);
    },
    complete() {
      observer.completed = true;
      observer.closed = true;
    },
    error() {},
  };
  return observer as unknown as Subscriber<MessageEvent> & { completed: boolean };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const user = (expiresInMs = 3_600_000): AuthUser => ({
  id: 'alice',
  topics: undefined,
  expiresAt: Date.now() + expiresInMs,
});

describe(StreamConnection.name, () => {
  let bus: EventBusService;
  let wheel: TimerWheel;
  let response: FakeResponse;
  let observer: ReturnType<typeof nestObserver>;
  let closed: jest.Mock<(connection: StreamConnection, reason: StreamCloseReason) => void>;
  let owner: ConnectionOwner;

  beforeEach(() => {
    ({ bus } = newBus());
    wheel = new TimerWheel(250);
    response = new FakeResponse();
    observer = nestObserver(response);
    closed = jest.fn();
    owner = {
      hub: bus,
      wheel,
      frames: new FrameCache(),
      flushes: new FlushScheduler(),
      settings: SETTINGS,
      closed,
    };
  });

  afterEach(() => wheel.stop());

  const connect = (topics = ['chat', 'orders'], who = user()): StreamConnection =>
    new StreamConnection(
      owner,
      who,
      bus.topicSet(topics),
      response as unknown as ServerResponse,
      observer,
      'c-1',
    );

  describe('opening', () => {
    it('should open through Nest with a resume point and a retry hint, then go live', async () => {
      const sut = connect();

      expect(sut.start(undefined)).toEqual({ kind: 'live' });
      publish(bus, eventOf('orders', 0, 0, alice), eventOf('orders', 0, 1, bob));
      await turn();

      expect(response.blocks[0]).toMatch(
        /^event: checkpoint\nid: chat=[\w-]+~orders=[\w-]+\nretry: 2000\ndata:$/,
      );
      const [delivered] = response.eventsOf();
      expect(response.eventsOf()).toHaveLength(1);
      expect(delivered!.id.split(';')[0]).toBe('orders/0/0');
      expect(LogPosition.parse(delivered!.id)!.get('orders', 0)).toBe(1);
      expect(sut.eventsSent).toBe(1);
    });

    it('should refuse to write before Nest has sent the headers', () => {
      observer = nestObserver(response, false);

      expect(() => connect().start(undefined)).toThrow('Nest did not send the stream headers');
    });

    it('should reset a malformed id, then go live', async () => {
      const sut = connect();

      expect(sut.start('garbage')).toEqual({ kind: 'reset', reason: 'malformed-id' });
      publish(bus, eventOf('chat', 0, 0, alice));
      await turn();

      expect(response.eventsOf('reset').map((reset) => JSON.parse(reset.data) as unknown)).toEqual([
        { reason: 'malformed-id', message: expect.any(String) as unknown },
      ]);
      expect(response.eventsOf()).toHaveLength(1);
    });
  });

  describe('resuming', () => {
    it('should replay what was missed, each id past its event, then go live without a gap or a duplicate', async () => {
      publish(bus, eventOf('orders', 0, 0, alice));
      const resumeAt = positionOf(
        [
          ['orders', 0, 1],
          ['orders', 1, 0],
          ['chat', 0, 0],
        ],
        ['chat', 'orders'],
      ).format(['chat', 'orders']);
      publish(
        bus,
        eventOf('orders', 0, 1, alice),
        eventOf('chat', 0, 0, everyone),
        eventOf('orders', 1, 0, bob),
      );

      const plan = connect().start(resumeAt);
      publish(bus, eventOf('orders', 1, 1, alice));
      await turn();

      expect(plan.kind).toBe('replay');
      const ids = response.eventsOf().map((event) => event.id);
      expect(ids.map((id) => id.split(';')[0])).toEqual(['orders/0/1', 'chat/0/0', 'orders/1/1']);
      expect(LogPosition.parse(ids[1]!)!.get('orders', 0)).toBe(2);
      expect(LogPosition.parse(ids[1]!)!.get('chat', 0)).toBe(1);
    });

    it('should send a replay larger than the slow-client bound in slices, as the client reads, with live events after it', async () => {
      const big = 'x'.repeat(10_000);
      const start = positionOf([['orders', 0, 0]], ['orders']).format(['orders']);
      for (let offset = 0; offset < 100; offset++)
        publish(bus, { ...eventOf('orders', 0, offset, alice), data: `"${big}"` });
      response.writableNeedDrain = true;

      connect(['orders']).start(start);
      publish(bus, eventOf('orders', 0, 100, alice));
      await turn();

      const firstSlice = response.eventsOf().length;
      expect(firstSlice).toBeGreaterThan(0);
      expect(firstSlice).toBeLessThan(10);
      expect(response.destroyed).toBe(false);
      for (let i = 0; i < 50 && response.eventsOf().length < 101; i++) {
        response.drain();
        response.writableNeedDrain = true;
        await turn();
      }
      expect(response.eventsOf().map((event) => event.id.split(';')[0])).toEqual(
        Array.from({ length: 101 }, (_, offset) => `orders/0/${offset}`),
      );
    });

    it('should skip what a client from a faster instance already has, and keep its resume point', async () => {
      const ahead = positionOf(
        [
          ['orders', 0, 2],
          ['orders', 1, 0],
        ],
        ['orders'],
      ).format(['orders']);

      connect(['orders']).start(ahead);
      publish(
        bus,
        eventOf('orders', 0, 0, alice),
        eventOf('orders', 0, 1, alice),
        eventOf('orders', 0, 2, alice),
      );
      publish(bus, eventOf('orders', 1, 0, alice));
      await turn();

      const ids = response.eventsOf().map((event) => event.id);
      expect(ids.map((id) => id.split(';')[0])).toEqual(['orders/0/2', 'orders/1/0']);
      expect(LogPosition.parse(ids[1]!)!.get('orders', 0)).toBe(3);
    });

    it('should reset a claimed position past the end of the log once newer log ends are known', async () => {
      const now = Date.now();
      const beyond = positionOf(
        [
          ['orders', 0, 1_000_000],
          ['orders', 1, 0],
        ],
        ['orders'],
      ).format(['orders']);
      const sut = connect(['orders']);
      sut.start(beyond);

      wheel.tick(now + 1000);
      expect(response.eventsOf('reset')).toEqual([]);
      bus.sawLogEnd('orders', 0, 3, now + SETTINGS.logEndRefreshMs);
      bus.sawLogEnd('orders', 1, 0, now + SETTINGS.logEndRefreshMs);
      wheel.tick(now + SETTINGS.logEndRefreshMs + 1000);
      await turn();

      expect(
        response.eventsOf('reset').map((reset) => (JSON.parse(reset.data) as { reason: string }).reason),
      ).toEqual(['unknown-position']);
      const resetAt = LogPosition.parse(response.eventsOf('reset')[0]!.id)!;
      expect(resetAt.get('orders', 0)).toBe(0);
    });
  });

  describe('while open', () => {
    it('should send a heartbeat comment with the resume point', () => {
      const sut = connect(['chat']);
      sut.start(undefined);

      wheel.tick(sut.openedAt + SETTINGS.heartbeatMs);
      (sut as unknown as { writer: { flush(): void } }).writer.flush();

      expect(response.blocks.at(-1)).toMatch(/^event: checkpoint\nid: chat=[\w-]+\n: \ndata:$/);
    });

    it('should tell the client to refetch when the log of one of its partitions changed', () => {
      const sut = connect(['orders']);
      sut.start(undefined);

      sut.logChanged('orders', 0);
      (sut as unknown as { writer: { flush(): void } }).writer.flush();

      expect(
        response.eventsOf('reset').map((reset) => (JSON.parse(reset.data) as { reason: string }).reason),
      ).toEqual(['log-changed']);
    });

    it('should drop a client that does not read, and report it as slow', async () => {
      const sut = connect(['orders']);
      sut.start(undefined);
      response.writableNeedDrain = true;
      response.writableLength = SETTINGS.slowClientMaxPending;

      publish(bus, eventOf('orders', 0, 0, alice));
      await turn();
      expect(response.destroyed).toBe(false);
      publish(bus, eventOf('orders', 0, 1, alice));
      expect(response.destroyed).toBe(true);
      sut.released();

      expect(closed).toHaveBeenCalledWith(sut, 'slow');
      expect(bus.subscriberCount).toBe(0);
      await turn();
    });
  });

  describe('ending', () => {
    it.each<[string, number, StreamCloseReason]>([
      ['the token expires', 60_000, 'expired'],
      ['its lifetime is over', 3_600_000 * 24, 'lifetime'],
    ])('should end with a resume point when %s', (_, expiresInMs, reason) => {
      const sut = connect(['chat'], user(expiresInMs));
      sut.start(undefined);

      wheel.tick(sut.openedAt + Math.min(expiresInMs, SETTINGS.maxLifetimeMs) + 1);
      sut.released();

      expect(response.blocks.at(-1)).toMatch(
        new RegExp(`^event: checkpoint\\nid: chat=[\\w-]+\\n: ${reason}\\ndata:$`),
      );
      expect(observer.completed).toBe(true);
      expect(closed).toHaveBeenCalledWith(sut, reason);
    });

    it('should end with a retry hint when the instance can no longer follow Kafka', () => {
      const sut = connect(['chat']);
      sut.start(undefined);

      bus.feedLost('gone');
      sut.released();

      expect(response.blocks.at(-1)).toMatch(
        /^event: checkpoint\nid: chat=[\w-]+\nretry: 2000\n: unavailable\ndata:$/,
      );
      expect(closed).toHaveBeenCalledWith(sut, 'unavailable');
    });

    it('should count a client that left as such, and leave nothing behind', () => {
      const sut = connect();
      sut.start(undefined);

      sut.released();

      expect(closed).toHaveBeenCalledWith(sut, 'client');
      expect(bus.subscriberCount).toBe(0);
      expect(wheel.scheduled).toBe(0);
    });
  });
});
