import { broadcastKey, userKey } from './audience.js';
import type { Audience, GatewayEvent } from './gateway-event.js';
import { LogPosition } from './log-position.js';
import { ReplayStore, type ReplayLimits } from './replay-store.js';

const NOW = 1_700_000_000_000;
const LIMITS: ReplayLimits = {
  windowMs: 60_000,
  maxBytes: 10 * 1024 ** 2,
  maxBytesPerUser: 1024 ** 2,
  maxBytesPerBroadcastTopic: 1024 ** 2,
};

function event(offset: number, audience: Audience, overrides: Partial<GatewayEvent> = {}): GatewayEvent {
  return {
    topic: 'orders',
    partition: 0,
    offset,
    type: 'order.created',
    data: `{"n":${offset}}`,
    audience,
    timestamp: NOW,
    ...overrides,
  };
}

const alice: Audience = { kind: 'user', userId: 'alice' };
const bob: Audience = { kind: 'user', userId: 'bob' };
const everyone: Audience = { kind: 'broadcast' };

function from(entries: Array<[string, number, number]>): LogPosition {
  const position = LogPosition.empty();
  for (const [topic, partition, offset] of entries) position.set(topic, partition, offset);
  return position;
}

describe(ReplayStore.name, () => {
  let sut: ReplayStore;

  const append = (...events: GatewayEvent[]): void => {
    for (const added of events) sut.append(added, NOW);
  };
  const replay = (userId: string, topics: string[], start: LogPosition) =>
    sut.replay([userKey(userId), ...topics.map(broadcastKey)], new Set(topics), start);
  const offsetsOf = (result: ReturnType<ReplayStore['replay']>) =>
    result.ok
      ? result.events.map((replayed) => `${replayed.topic}/${replayed.partition}/${replayed.offset}`)
      : result.reason;

  beforeEach(() => {
    sut = new ReplayStore(LIMITS);
    for (const topic of ['orders', 'chat'])
      for (const partition of [0, 1]) sut.completeFrom(topic, partition, 0);
  });

  describe('replay', () => {
    it("should give a user's events and the broadcasts of its topics from its position on, in processing order", () => {
      append(
        event(0, alice),
        event(1, bob),
        event(2, everyone),
        event(0, alice, { topic: 'chat' }),
        event(3, { kind: 'users', userIds: ['bob', 'alice'] }),
        event(0, everyone, { partition: 1 }),
      );

      expect(
        offsetsOf(
          replay(
            'alice',
            ['chat', 'orders'],
            from([
              ['orders', 0, 1],
              ['orders', 1, 0],
              ['chat', 0, 0],
            ]),
          ),
        ),
      ).toEqual(['orders/0/2', 'chat/0/0', 'orders/0/3', 'orders/1/0']);
    });

    it('should leave out topics the stream does not read and partitions the position does not name', () => {
      append(event(0, alice), event(0, alice, { topic: 'chat' }), event(0, alice, { partition: 1 }));

      expect(
        offsetsOf(
          replay(
            'alice',
            ['orders'],
            from([
              ['orders', 0, 0],
              ['chat', 0, 0],
            ]),
          ),
        ),
      ).toEqual(['orders/0/0']);
    });

    it('should answer nothing for a position at the head of the log', () => {
      append(event(0, alice), event(1, alice));

      expect(offsetsOf(replay('alice', ['orders'], from([['orders', 0, 2]])))).toEqual([]);
    });

    it('should refuse a position before what it holds as too old, and one of a partition it does not know', () => {
      sut.completeFrom('orders', 0, 10);

      expect(replay('alice', ['orders'], from([['orders', 0, 9]]))).toEqual({ ok: false, reason: 'too-old' });
      expect(replay('alice', ['orders'], from([['orders', 5, 0]]))).toEqual({ ok: false, reason: 'too-old' });
      expect(replay('alice', ['orders'], from([['orders', 0, 10]]))).toEqual({ ok: true, events: [] });
    });
  });

  describe('eviction', () => {
    it('should drop events past the window and move completeness on', () => {
      sut.append(event(0, alice, { timestamp: NOW - 120_000 }), NOW);
      sut.append(event(1, alice), NOW);

      expect(sut.size).toBe(1);
      expect(sut.completeFor([], 'orders', 0)).toBe(1);
      expect(replay('alice', ['orders'], from([['orders', 0, 0]]))).toEqual({ ok: false, reason: 'too-old' });
      expect(offsetsOf(replay('alice', ['orders'], from([['orders', 0, 1]])))).toEqual(['orders/0/1']);
    });

    it('should time a record stamped in the future by its arrival', () => {
      sut.append(event(0, alice, { timestamp: NOW + 3_600_000 }), NOW);

      sut.evict(NOW + LIMITS.windowMs + 1);

      expect(sut.size).toBe(0);
    });

    it('should stay within its byte budget, oldest first, and free its memory accounting as it goes', () => {
      sut = new ReplayStore({ ...LIMITS, maxBytes: 20_000 });
      sut.completeFrom('orders', 0, 0);
      for (let offset = 0; offset < 500; offset++)
        append(event(offset, { kind: 'user', userId: `u${offset}` }));

      expect(sut.bytes).toBeLessThanOrEqual(20_000);
      expect(sut.size).toBeGreaterThan(10);
      expect(sut.completeFor([], 'orders', 0)).toBe(500 - sut.size);

      sut.evict(NOW + LIMITS.windowMs + 1);
      expect(sut.size).toBe(0);
      expect(sut.bytes).toBe(0);
    });
  });

  describe('fairness', () => {
    it("should cap one user's history without touching anyone else's", () => {
      sut = new ReplayStore({ ...LIMITS, maxBytesPerUser: 5000 });
      sut.completeFrom('orders', 0, 0);
      append(event(0, bob));
      for (let offset = 1; offset <= 200; offset++) append(event(offset, alice));

      const aliceFrom1 = replay('alice', ['orders'], from([['orders', 0, 1]]));
      expect(aliceFrom1).toEqual({ ok: false, reason: 'too-old' });
      const recent = replay('alice', ['orders'], from([['orders', 0, 190]]));
      expect(recent.ok && recent.events.length).toBe(11);
      expect(offsetsOf(replay('bob', ['orders'], from([['orders', 0, 0]])))).toEqual(['orders/0/0']);
    });

    it("should cap a topic's broadcasts on their own", () => {
      sut = new ReplayStore({ ...LIMITS, maxBytesPerBroadcastTopic: 5000 });
      sut.completeFrom('orders', 0, 0);
      append(event(0, alice));
      for (let offset = 1; offset <= 200; offset++) append(event(offset, everyone));

      expect(replay('bob', ['orders'], from([['orders', 0, 1]]))).toEqual({ ok: false, reason: 'too-old' });
      expect(offsetsOf(replay('alice', [], from([['orders', 0, 0]])))).toEqual([]);
      const aliceOwn = sut.replay([userKey('alice')], new Set(['orders']), from([['orders', 0, 0]]));
      expect(offsetsOf(aliceOwn)).toEqual(['orders/0/0']);
    });

    it("should charge each recipient of an event for many users the event's own size, not the audience list", () => {
      sut = new ReplayStore({ ...LIMITS, maxBytesPerUser: 64 * 1024, maxBytes: 64 * 1024 ** 2 });
      sut.completeFrom('orders', 0, 0);
      const audience = Array.from({ length: 5000 }, (_, i) => `user-${String(i).padStart(4, '0')}`);
      append(event(0, { kind: 'user', userId: 'user-0001' }));
      // Each list is about 140 KB; the events themselves are a few dozen bytes.
      for (let offset = 1; offset <= 8; offset++) append(event(offset, { kind: 'users', userIds: audience }));

      const resumed = replay('user-0001', ['orders'], from([['orders', 0, 0]]));
      expect(offsetsOf(resumed)).toEqual(Array.from({ length: 9 }, (_, offset) => `orders/0/${offset}`));
    });

    it('should keep an event for several users while any of them still holds it', () => {
      sut = new ReplayStore({ ...LIMITS, maxBytesPerUser: 5000 });
      sut.completeFrom('orders', 0, 0);
      append(event(0, { kind: 'users', userIds: ['alice', 'bob'] }));
      for (let offset = 1; offset <= 200; offset++) append(event(offset, alice));

      expect(offsetsOf(replay('bob', ['orders'], from([['orders', 0, 0]])))).toEqual(['orders/0/0']);
      expect(sut.size).toBeGreaterThan(1);
    });
  });

  describe('cost', () => {
    it('should answer a resume at the head in time that does not grow with what is buffered', () => {
      const visits = (buffered: number): number => {
        sut = new ReplayStore({ ...LIMITS, maxBytesPerBroadcastTopic: 1024 ** 3, maxBytes: 1024 ** 3 });
        sut.completeFrom('orders', 0, 0);
        for (let offset = 0; offset < buffered; offset++) append(event(offset, everyone));
        let calls = 0;
        const start = new Proxy(from([['orders', 0, buffered]]), {
          get(target, name, receiver) {
            if (name === 'get') calls++;
            const value: unknown = Reflect.get(target, name, receiver);
            return typeof value === 'function'
              ? (value as (...args: unknown[]) => unknown).bind(target)
              : value;
          },
        });
        expect(offsetsOf(replay('alice', ['orders'], start))).toEqual([]);
        return calls;
      };

      expect(visits(100_000)).toBe(visits(100));
    });
  });

  describe('a log that changed', () => {
    it("should forget a partition's events and start it over", () => {
      append(event(5, alice), event(6, alice), event(0, alice, { partition: 1 }));

      sut.forgetPartition('orders', 0, 0);

      expect(
        offsetsOf(
          replay(
            'alice',
            ['orders'],
            from([
              ['orders', 0, 0],
              ['orders', 1, 0],
            ]),
          ),
        ),
      ).toEqual(['orders/1/0']);
      expect(sut.size).toBe(1);
    });
  });

  describe('partitions another instance owns now', () => {
    it('should drop their events and their history, and keep the others', () => {
      sut.completeFrom('orders', 0, 0);
      sut.completeFrom('orders', 1, 0);
      sut.completeFrom('orders', 2, 0);
      append(
        event(0, alice),
        event(0, alice, { partition: 1 }),
        event(1, everyone, { partition: 1 }),
        event(0, bob, { partition: 2 }),
      );

      sut.dropPartitions('orders', new Set([0, 1]));

      expect(sut.size).toBe(1);
      expect(sut.completeFor([], 'orders', 0)).toBeUndefined();
      expect(offsetsOf(replay('bob', ['orders'], from([['orders', 2, 0]])))).toEqual(['orders/2/0']);
      expect(replay('alice', ['orders'], from([['orders', 1, 0]]))).toEqual({ ok: false, reason: 'too-old' });
    });

    it('should give their heap back', () => {
      const before = sut.bytes;
      sut.completeFrom('orders', 0, 0);
      append(event(0, alice), event(1, everyone));

      sut.dropPartitions('orders', new Set([0]));

      expect(sut.bytes).toBe(before);
    });
  });
});
