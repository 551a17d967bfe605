import { jest } from '@jest/globals';
import type { MessageEvent } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { AuthUser } from '../auth/auth-user.js';
import type { EventBusService } from '../event-bus/event-bus.service.js';
import { LogPosition } from '../log/log-position.js';
import type { PartitionLogService } from '../log/partition-log.service.js';
import { FlushScheduler } from '../sse/flush-scheduler.js';
import type { SseSink } from '../sse/nest-sse.bridge.js';
import { formatFrame, FrameCache } from '../sse/sse-frame.js';
import { alice, bob, everyone, eventOf, newLog, positionOf, publish } from '../testing/fixtures.js';
import { planResume, resumeFrom, type ResumePlan } from './resume-plan.js';
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

/** A stream's sink as the connection sees it: what it wrote, backed up on demand. */
class FakeSink extends EventEmitter implements SseSink {
  text = '';
  destroyed = false;
  ended = false;
  writableLength = 0;
  writableNeedDrain = false;

  open(first: MessageEvent): void {
    this.text += `\n${formatFrame(first)}`;
  }

  write(chunk: string): boolean {
    this.text += chunk;
    if (this.writableNeedDrain) this.writableLength += chunk.length;
    return !this.writableNeedDrain;
  }

  end(): void {
    this.ended = true;
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

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const user = (expiresInMs = 3_600_000): AuthUser => ({
  id: 'alice',
  topics: undefined,
  expiresAt: Date.now() + expiresInMs,
});

describe(StreamConnection.name, () => {
  let bus: EventBusService;
  let log: PartitionLogService;
  let wheel: TimerWheel;
  let response: FakeSink;
  let opened: jest.Mock<(connection: StreamConnection, plan: ResumePlan) => void>;
  let closed: jest.Mock<(connection: StreamConnection, reason: StreamCloseReason, held: number) => void>;
  let owner: ConnectionOwner;

  beforeEach(() => {
    ({ bus, log } = newLog());
    wheel = new TimerWheel(250);
    response = new FakeSink();
    opened = jest.fn();
    closed = jest.fn();
    owner = {
      hub: bus,
      log,
      wheel,
      frames: new FrameCache(),
      flushes: new FlushScheduler(),
      settings: SETTINGS,
      resumeScope: () => () => true,
      opened,
      resumed: () => undefined,
      closed,
    };
  });

  afterEach(() => wheel.stop());

  const connect = (topics = ['chat', 'orders'], who = user(), lastEventId?: string): StreamConnection =>
    new StreamConnection(owner, who, bus.topicSet(topics), response, resumeFrom(lastEventId), {
      connectionId: 'c-1',
      requestId: 'r-1',
    });

  /** Opens a stream resumed from `lastEventId`; returns its plan. */
  const start = (topics?: string[], lastEventId?: string, who = user()): ResumePlan => {
    connect(topics, who, lastEventId).start();
    return opened.mock.calls.at(-1)![1];
  };

  describe('opening', () => {
    it('should open through Nest with a resume point and a retry hint, then go live', async () => {
      const sut = connect();
      sut.start();

      expect(opened).toHaveBeenCalledWith(sut, { kind: 'live' });
      publish(log, eventOf('orders', 0, 0, alice), eventOf('orders', 0, 1, bob));
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

    it('should reset a malformed id, then go live', async () => {
      expect(start(undefined, 'garbage')).toEqual({ kind: 'reset', reason: 'malformed-id' });
      publish(log, eventOf('chat', 0, 0, alice));
      await turn();

      expect(response.eventsOf('reset').map((reset) => JSON.parse(reset.data) as unknown)).toEqual([
        { reason: 'malformed-id', message: expect.any(String) as unknown },
      ]);
      expect(response.eventsOf()).toHaveLength(1);
    });
  });

  describe('resuming', () => {
    it('should replay what was missed, each id past its event, then go live without a gap or a duplicate', async () => {
      publish(log, eventOf('orders', 0, 0, alice));
      const resumeAt = positionOf(
        [
          ['orders', 0, 1],
          ['orders', 1, 0],
          ['chat', 0, 0],
        ],
        ['chat', 'orders'],
      ).format(['chat', 'orders']);
      publish(
        log,
        eventOf('orders', 0, 1, alice),
        eventOf('chat', 0, 0, everyone),
        eventOf('orders', 1, 0, bob),
      );

      const plan = start(undefined, resumeAt);
      publish(log, eventOf('orders', 1, 1, alice));
      await turn();

      expect(plan.kind).toBe('resume');
      const ids = response.eventsOf().map((event) => event.id);
      expect(ids.map((id) => id.split(';')[0])).toEqual(['orders/0/1', 'chat/0/0', 'orders/1/1']);
      expect(LogPosition.parse(ids[1]!)!.get('orders', 0)).toBe(2);
      expect(LogPosition.parse(ids[1]!)!.get('chat', 0)).toBe(1);
    });

    it('should send a replay larger than the slow-client bound in slices, as the client reads, with live events after it', async () => {
      const big = 'x'.repeat(10_000);
      const from = positionOf([['orders', 0, 0]], ['orders']).format(['orders']);
      for (let offset = 0; offset < 100; offset++)
        publish(log, { ...eventOf('orders', 0, offset, alice), data: `"${big}"` });
      response.writableNeedDrain = true;

      start(['orders'], from);
      publish(log, eventOf('orders', 0, 100, alice));
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

    it('should read what the store no longer holds from Kafka, then the store, then go live: no gap, no duplicate', async () => {
      const reads: string[] = [];
      log.readHistoryWith({
        read: (topic, partition, offset) => reads.push(`${topic}/${partition}@${offset}`),
        stop: () => undefined,
      });
      log.startPartition('chat', 1, 100);
      publish(
        log,
        eventOf('chat', 1, 100, alice),
        eventOf('chat', 1, 101, bob),
        eventOf('chat', 1, 102, alice),
      );
      const resumeAt = positionOf(
        [
          ['chat', 0, 0],
          ['chat', 1, 50],
        ],
        ['chat'],
      ).format(['chat']);

      expect(start(['chat'], resumeAt)).toMatchObject({ kind: 'resume' });
      expect(reads).toEqual(['chat/1@50']);
      publish(log, eventOf('chat', 1, 103, alice));
      log.takeHistory({
        topic: 'chat',
        partition: 1,
        fetchedOffset: 50,
        highWatermark: 104,
        offsetReset: false,
        next: 100,
        records: [eventOf('chat', 1, 60, alice), eventOf('chat', 1, 70, bob), eventOf('chat', 1, 80, alice)],
      });
      publish(log, eventOf('chat', 1, 104, alice));
      await turn();

      const ids = response.eventsOf().map((event) => event.id);
      expect(ids.map((id) => id.split(';')[0])).toEqual([
        'chat/1/60',
        'chat/1/80',
        'chat/1/100',
        'chat/1/102',
        'chat/1/103',
        'chat/1/104',
      ]);
      expect(ids.map((id) => LogPosition.parse(id)!.get('chat', 1))).toEqual([61, 81, 101, 103, 104, 105]);
    });

    it('should reset a stream whose position Kafka no longer has, and go live', async () => {
      log.readHistoryWith({ read: () => undefined, stop: () => undefined });
      log.startPartition('chat', 1, 100);
      log.sawLogStart('chat', 1, 90);

      start(['chat'], positionOf([['chat', 1, 50]], ['chat']).format(['chat']));
      publish(log, eventOf('chat', 1, 100, alice));
      await turn();

      expect(
        response.eventsOf('reset').map((reset) => (JSON.parse(reset.data) as { reason: string }).reason),
      ).toEqual(['expired']);
      expect(response.eventsOf().map((event) => event.id.split(';')[0])).toEqual(['chat/1/100']);
    });

    it('should skip what a client from a faster instance already has, and keep its resume point', async () => {
      const ahead = positionOf(
        [
          ['orders', 0, 2],
          ['orders', 1, 0],
        ],
        ['orders'],
      ).format(['orders']);

      start(['orders'], ahead);
      publish(
        log,
        eventOf('orders', 0, 0, alice),
        eventOf('orders', 0, 1, alice),
        eventOf('orders', 0, 2, alice),
      );
      publish(log, eventOf('orders', 1, 0, alice));
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
      start(['orders'], beyond);

      wheel.tick(now + 1000);
      expect(response.eventsOf('reset')).toEqual([]);
      log.sawLogEnd('orders', 0, 3, now + SETTINGS.logEndRefreshMs);
      log.sawLogEnd('orders', 1, 0, now + SETTINGS.logEndRefreshMs);
      wheel.tick(now + SETTINGS.logEndRefreshMs + 1000);
      await turn();

      expect(
        response.eventsOf('reset').map((reset) => (JSON.parse(reset.data) as { reason: string }).reason),
      ).toEqual(['unknown-position']);
      const resetAt = LogPosition.parse(response.eventsOf('reset')[0]!.id)!;
      expect(resetAt.get('orders', 0)).toBe(0);
    });
  });

  describe('compact ids', () => {
    /** Checkpoints go to a journal that names them 10, 11, ... as Kafka's offsets would. */
    const checkpoint = async (): Promise<void> => {
      log.takeCheckpoint();
      await turn();
    };

    beforeEach(() => {
      let offset = 10;
      const written = new Map<number, string>();
      log.journalWith({
        write: (text) => {
          written.set(offset, text);
          log.learnCheckpoint(offset, text);
          return Promise.resolve(offset++);
        },
        look: (at) => Promise.resolve(written.get(at)),
      });
    });

    it('should name the checkpoint, then where the stream stands past it, whatever the partition count', async () => {
      publish(log, eventOf('orders', 0, 0, bob), eventOf('orders', 1, 0, bob));
      await checkpoint();
      connect(['orders']).start();
      publish(
        log,
        eventOf('orders', 0, 1, alice),
        eventOf('orders', 1, 1, alice),
        eventOf('orders', 1, 2, bob),
      );
      await turn();

      const ids = response.eventsOf().map((event) => event.id);
      expect(ids[0]).toBe('orders/0/1;@a');
      expect(ids[1]).toMatch(/^orders\/1\/1;@a\.[\w-]+$/);
      const resumed = planResume(resumeFrom(ids[1]), {
        topics: ['orders'],
        configuredTopics: SETTINGS.configuredTopics,
        scope: () => true,
        log,
      });
      expect(resumed.kind === 'resume' && [...resumed.from.entries()]).toEqual([
        ['orders', 0, 2],
        ['orders', 1, 2],
      ]);
    });

    it('should resume exactly from a compact id, on any instance that holds the checkpoint', async () => {
      await checkpoint();
      connect(['orders']).start();
      publish(log, eventOf('orders', 0, 0, alice), eventOf('orders', 1, 0, alice));
      await turn();
      const last = response.eventsOf().at(-1)!.id;
      publish(
        log,
        eventOf('orders', 0, 1, alice),
        eventOf('orders', 1, 1, bob),
        eventOf('orders', 1, 2, alice),
      );
      response = new FakeSink();

      connect(['orders'], user(), last).start();
      await turn();

      expect(last).toMatch(/;@a/);
      expect(response.eventsOf().map((event) => event.id.split(';')[0])).toEqual([
        'orders/0/1',
        'orders/1/2',
      ]);
    });

    it('should open a live stream with the compact id a client reconnects with', async () => {
      publish(log, eventOf('orders', 0, 0, bob));
      await checkpoint();

      connect(['orders']).start();

      expect(response.blocks[0]).toMatch(/^event: checkpoint\nid: @a\n/);
    });

    it('should carry the full cursor until a checkpoint is written', async () => {
      connect(['orders']).start();
      publish(log, eventOf('orders', 0, 0, alice));
      await turn();

      expect(response.eventsOf().map((event) => event.id)).toEqual([
        expect.stringMatching(/^orders\/0\/0;orders=[\w-]+$/),
      ]);
    });
  });

  describe('while open', () => {
    it('should send a heartbeat comment with the resume point', () => {
      const sut = connect(['chat']);
      sut.start();

      wheel.tick(sut.openedAt + SETTINGS.heartbeatMs);
      (sut as unknown as { writer: { flush(): void } }).writer.flush();

      expect(response.blocks.at(-1)).toMatch(/^event: checkpoint\nid: chat=[\w-]+\n: \ndata:$/);
    });

    it('should tell the client to refetch when the log of one of its partitions changed', () => {
      const sut = connect(['orders']);
      sut.start();

      sut.logChanged('orders', 0);
      (sut as unknown as { writer: { flush(): void } }).writer.flush();

      expect(
        response.eventsOf('reset').map((reset) => (JSON.parse(reset.data) as { reason: string }).reason),
      ).toEqual(['log-changed']);
    });

    it('should drop a client that does not read, and report it as slow', async () => {
      const sut = connect(['orders']);
      sut.start();
      response.writableNeedDrain = true;
      response.writableLength = SETTINGS.slowClientMaxPending;

      publish(log, eventOf('orders', 0, 0, alice));
      await turn();
      expect(response.destroyed).toBe(false);
      publish(log, eventOf('orders', 0, 1, alice));
      expect(response.destroyed).toBe(true);
      sut.released();

      expect(closed).toHaveBeenCalledWith(sut, 'slow', expect.any(Number));
      expect(bus.subscriberCount).toBe(0);
      await turn();
    });
  });

  describe('a burst to a client that does not read', () => {
    it('should drop the stream within the turn, before it holds more than the bound', () => {
      const sut = connect(['orders']);
      sut.start();
      response.writableNeedDrain = true;
      const big = `"${'y'.repeat(10_000)}"`;

      // 4.4 MB in one turn of the event loop, as a catch-up after a broker outage brings it.
      for (let offset = 0; offset < 440; offset++)
        publish(log, { ...eventOf('orders', 0, offset, alice), data: big });

      expect(response.destroyed).toBe(true);
      sut.released();
      const [, reason, held] = closed.mock.calls[0]!;
      expect(reason).toBe('slow');
      expect(held).toBeLessThanOrEqual(SETTINGS.slowClientMaxPending);
      expect(response.text.length).toBeLessThanOrEqual(SETTINGS.slowClientMaxPending + 1000);
    });
  });

  describe('ending', () => {
    it.each<[string, number, StreamCloseReason]>([
      ['the token expires', 60_000, 'expired'],
      ['its lifetime is over', 3_600_000 * 24, 'lifetime'],
    ])('should end with a resume point when %s', (_, expiresInMs, reason) => {
      const sut = connect(['chat'], user(expiresInMs));
      sut.start();

      wheel.tick(sut.openedAt + Math.min(expiresInMs, SETTINGS.maxLifetimeMs) + 1);
      sut.released();

      expect(response.blocks.at(-1)).toMatch(
        new RegExp(`^event: checkpoint\\nid: chat=[\\w-]+\\n: ${reason}\\ndata:$`),
      );
      expect(response.ended).toBe(true);
      expect(closed).toHaveBeenCalledWith(sut, reason, 0);
    });

    it('should end with a retry hint when the instance can no longer follow Kafka', () => {
      const sut = connect(['chat']);
      sut.start();

      log.feedLost('gone');
      sut.released();

      expect(response.blocks.at(-1)).toMatch(
        /^event: checkpoint\nid: chat=[\w-]+\nretry: 2000\n: unavailable\ndata:$/,
      );
      expect(closed).toHaveBeenCalledWith(sut, 'unavailable', 0);
    });

    it('should count a client that left as such, and leave nothing behind', () => {
      const sut = connect();
      sut.start();

      sut.released();

      expect(closed).toHaveBeenCalledWith(sut, 'client', 0);
      expect(bus.subscriberCount).toBe(0);
      expect(wheel.scheduled).toBe(0);
    });
  });
});
