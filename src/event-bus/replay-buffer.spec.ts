import type { StreamCursor } from './event-id.js';
import type { Audience, GatewayEvent } from './gateway-event.js';
import { ReplayBuffer, type ReplayLimits, type ReplayResult } from './replay-buffer.js';

const NOW = 1_700_000_000_000;
const UNLIMITED: ReplayLimits = { windowMs: 3_600_000, maxBytes: 1024 ** 3 };

const forUser = (userId: string): Audience => ({ kind: 'user', userId });
const forUsers = (...userIds: string[]): Audience => ({ kind: 'users', userIds });
const broadcast: Audience = { kind: 'broadcast' };

function event(
  topic: string,
  partition: number,
  offset: bigint,
  audience: Audience,
  timestamp = NOW,
  data = '{}',
): GatewayEvent {
  return { topic, partition, offset, audience, timestamp, type: `${topic}.event`, data };
}

function cursor(entries: Record<string, Array<[number, bigint]>>): StreamCursor {
  return new Map(Object.entries(entries).map(([topic, offsets]) => [topic, new Map(offsets)]));
}

const replayed = (...events: GatewayEvent[]): ReplayResult => ({ ok: true, events });
const TOO_OLD: ReplayResult = { ok: false, reason: 'too-old' };

/** What the buffer charges for one event, measured rather than copied from its constants. */
function bytesOf(buffered: GatewayEvent): number {
  const probe = new ReplayBuffer(UNLIMITED);
  probe.append(buffered, NOW);
  return probe.byteSize;
}

/** The index maps are private; their emptiness is part of the memory contract. */
function indexes(buffer: ReplayBuffer): { byUser: Map<string, unknown>; broadcasts: Map<string, unknown> } {
  return buffer as unknown as { byUser: Map<string, unknown>; broadcasts: Map<string, unknown> };
}

describe(ReplayBuffer.name, () => {
  let sut: ReplayBuffer;

  beforeEach(() => {
    sut = new ReplayBuffer(UNLIMITED);
  });

  describe('replay', () => {
    const topics = new Set(['orders', 'chat']);
    const e1 = event('orders', 0, 0n, forUser('alice'));
    const e2 = event('chat', 0, 0n, broadcast);
    const e3 = event('orders', 1, 0n, forUser('bob'));
    const e4 = event('orders', 1, 1n, forUser('alice'));
    const e5 = event('alerts', 0, 0n, forUser('alice'));
    const e6 = event('orders', 0, 1n, broadcast);
    const e7 = event('alerts', 0, 1n, broadcast);
    const e8 = event('chat', 0, 1n, forUsers('bob', 'alice'));
    const e9 = event('orders', 1, 2n, forUser('alice'));

    beforeEach(() => {
      sut.completeFromOffset('orders', 0, 0n);
      sut.completeFromOffset('orders', 1, 0n);
      sut.completeFromOffset('chat', 0, 0n);
      sut.completeFromOffset('alerts', 0, 0n);
      for (const buffered of [e1, e2, e3, e4, e5, e6, e7, e8, e9]) sut.append(buffered, NOW);
    });

    it("should return the user's events and the broadcasts of the requested topics, in append order", () => {
      const from = cursor({
        orders: [
          [0, 0n],
          [1, 0n],
        ],
        chat: [[0, 0n]],
      });

      expect(sut.replay('alice', topics, from)).toEqual(replayed(e1, e2, e4, e6, e8, e9));
      expect(sut.replay('bob', topics, from)).toEqual(replayed(e2, e3, e6, e8));
    });

    it('should return only events at or after the from offset of their partition', () => {
      const from = cursor({
        orders: [
          [0, 1n],
          [1, 2n],
        ],
        chat: [[0, 1n]],
      });

      expect(sut.replay('alice', topics, from)).toEqual(replayed(e6, e8, e9));
    });

    it('should return nothing for partitions the cursor does not name', () => {
      const from = cursor({ orders: [[1, 0n]] });

      expect(sut.replay('alice', topics, from)).toEqual(replayed(e4, e9));
    });

    it('should return nothing past the newest event', () => {
      const from = cursor({
        orders: [
          [0, 2n],
          [1, 3n],
        ],
        chat: [[0, 2n]],
      });

      expect(sut.replay('alice', topics, from)).toEqual(replayed());
    });

    it('should return nothing for a user without events apart from broadcasts', () => {
      const from = cursor({ orders: [[0, 0n]], chat: [[0, 0n]] });

      expect(sut.replay('carol', topics, from)).toEqual(replayed(e2, e6));
    });

    it('should give an event for several users to each listed user exactly once', () => {
      const multi = event('orders', 0, 2n, forUsers('alice', 'bob', 'carol'));
      sut.append(multi, NOW);
      const from = cursor({ orders: [[0, 2n]] });

      expect(sut.replay('alice', topics, from)).toEqual(replayed(multi));
      expect(sut.replay('bob', topics, from)).toEqual(replayed(multi));
      expect(sut.replay('carol', topics, from)).toEqual(replayed(multi));
      expect(sut.replay('dave', topics, from)).toEqual(replayed());
    });

    it('should serve a from offset equal to the first replayable offset', () => {
      expect(sut.replay('alice', new Set(['orders']), cursor({ orders: [[0, 0n]] }))).toEqual(
        replayed(e1, e6),
      );
    });

    it('should refuse a from offset below the first replayable offset as too old', () => {
      sut.completeFromOffset('orders', 0, 1n);

      expect(sut.replay('alice', topics, cursor({ orders: [[0, 0n]] }))).toEqual(TOO_OLD);
    });

    it('should refuse the whole replay when one partition is too old', () => {
      sut.completeFromOffset('chat', 0, 1n);
      const from = cursor({
        orders: [
          [0, 0n],
          [1, 0n],
        ],
        chat: [[0, 0n]],
      });

      expect(sut.replay('alice', topics, from)).toEqual(TOO_OLD);
    });

    it('should refuse a partition that was never declared as too old', () => {
      expect(sut.replay('alice', topics, cursor({ orders: [[2, 0n]] }))).toEqual(TOO_OLD);
      expect(sut.replay('alice', new Set(['unknown']), cursor({ unknown: [[0, 0n]] }))).toEqual(TOO_OLD);
    });

    it('should return an empty replay for an empty cursor', () => {
      expect(sut.replay('alice', topics, new Map())).toEqual(replayed());
    });
  });

  describe('completeFromOffset', () => {
    it('should be unknown for a partition never declared', () => {
      expect(sut.firstReplayableOffset('orders', 0)).toBeUndefined();
    });

    it('should keep partitions and topics apart', () => {
      sut.completeFromOffset('orders', 1, 5n);
      sut.completeFromOffset('chat', 0, 7n);

      expect(sut.firstReplayableOffset('orders', 0)).toBeUndefined();
      expect(sut.firstReplayableOffset('orders', 1)).toBe(5n);
      expect(sut.firstReplayableOffset('chat', 0)).toBe(7n);
    });

    it('should move forwards and never backwards', () => {
      sut.completeFromOffset('orders', 0, 10n);
      sut.completeFromOffset('orders', 0, 5n);
      expect(sut.firstReplayableOffset('orders', 0)).toBe(10n);

      sut.completeFromOffset('orders', 0, 12n);
      expect(sut.firstReplayableOffset('orders', 0)).toBe(12n);
    });

    it('should not move back below an offset set by eviction', () => {
      sut = new ReplayBuffer({ windowMs: 0, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 0n);
      sut.append(event('orders', 0, 4n, broadcast), NOW);
      sut.evict(NOW + 1);

      sut.completeFromOffset('orders', 0, 2n);

      expect(sut.firstReplayableOffset('orders', 0)).toBe(5n);
    });
  });

  describe('eviction', () => {
    it('should drop events older than the window, and move the first replayable offset past them', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 0n);
      const old = event('orders', 0, 3n, forUser('alice'), NOW - 500);
      const recent = event('orders', 0, 4n, forUser('alice'), NOW);
      sut.append(old, NOW);
      sut.append(recent, NOW);
      expect(sut.size).toBe(2);

      sut.evict(NOW + 600);

      expect(sut.size).toBe(1);
      expect(sut.byteSize).toBe(bytesOf(recent));
      expect(sut.firstReplayableOffset('orders', 0)).toBe(4n);
      expect(sut.replay('alice', new Set(['orders']), cursor({ orders: [[0, 3n]] }))).toEqual(TOO_OLD);
      expect(sut.replay('alice', new Set(['orders']), cursor({ orders: [[0, 4n]] }))).toEqual(
        replayed(recent),
      );
    });

    it('should keep an event exactly at the edge of the window', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: UNLIMITED.maxBytes });
      sut.append(event('orders', 0, 0n, broadcast, NOW), NOW);

      sut.evict(NOW + 1000);
      expect(sut.size).toBe(1);

      sut.evict(NOW + 1001);
      expect(sut.size).toBe(0);
    });

    it('should evict on append, at the time it is given', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 0n);
      sut.append(event('orders', 0, 0n, broadcast, NOW), NOW);
      sut.append(event('orders', 0, 1n, broadcast, NOW + 1500), NOW + 1500);

      expect(sut.size).toBe(1);
      expect(sut.firstReplayableOffset('orders', 0)).toBe(1n);
    });

    it('should drop an event that arrives already out of the window', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 0n);

      sut.append(event('orders', 0, 0n, broadcast, NOW - 5000), NOW);

      expect(sut.size).toBe(0);
      expect(sut.byteSize).toBe(0);
      expect(sut.firstReplayableOffset('orders', 0)).toBe(1n);
    });

    it('should drop the oldest events once the buffer is over maxBytes', () => {
      const first = event('orders', 0, 0n, forUser('alice'));
      const second = event('orders', 1, 0n, forUser('alice'));
      const third = event('orders', 0, 1n, forUser('alice'));
      sut = new ReplayBuffer({ windowMs: UNLIMITED.windowMs, maxBytes: bytesOf(first) + bytesOf(second) });
      sut.completeFromOffset('orders', 0, 0n);
      sut.completeFromOffset('orders', 1, 0n);
      sut.append(first, NOW);
      sut.append(second, NOW);
      expect(sut.size).toBe(2);

      sut.append(third, NOW);

      expect(sut.size).toBe(2);
      expect(sut.byteSize).toBe(bytesOf(second) + bytesOf(third));
      expect(sut.firstReplayableOffset('orders', 0)).toBe(1n);
      expect(sut.firstReplayableOffset('orders', 1)).toBe(0n);
      expect(
        sut.replay(
          'alice',
          new Set(['orders']),
          cursor({
            orders: [
              [0, 1n],
              [1, 0n],
            ],
          }),
        ),
      ).toEqual(replayed(second, third));
      expect(sut.replay('alice', new Set(['orders']), cursor({ orders: [[0, 0n]] }))).toEqual(TOO_OLD);
    });

    it('should charge more bytes for more data and more recipients', () => {
      const small = bytesOf(event('orders', 0, 0n, forUser('alice'), NOW, '1'));

      expect(bytesOf(event('orders', 0, 0n, forUser('alice'), NOW, '12345'))).toBeGreaterThan(small);
      expect(bytesOf(event('orders', 0, 0n, forUsers('alice', 'bob'), NOW, '1'))).toBeGreaterThan(small);
    });

    it('should reset old cursors while newer ones still replay', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 10n);
      const events = [10n, 11n, 12n, 13n].map((offset, i) =>
        event('orders', 0, offset, forUser('alice'), NOW + i * 1000),
      );
      for (const [i, buffered] of events.entries()) sut.append(buffered, NOW + i * 1000);

      sut.evict(NOW + 2500);

      expect(sut.firstReplayableOffset('orders', 0)).toBe(12n);
      const orders = new Set(['orders']);
      expect(sut.replay('alice', orders, cursor({ orders: [[0, 10n]] }))).toEqual(TOO_OLD);
      expect(sut.replay('alice', orders, cursor({ orders: [[0, 11n]] }))).toEqual(TOO_OLD);
      expect(sut.replay('alice', orders, cursor({ orders: [[0, 12n]] }))).toEqual(
        replayed(events[2] as GatewayEvent, events[3] as GatewayEvent),
      );
      expect(sut.replay('alice', orders, cursor({ orders: [[0, 13n]] }))).toEqual(
        replayed(events[3] as GatewayEvent),
      );
    });

    it('should only move the first replayable offset of the evicted event its partition', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 0n);
      sut.completeFromOffset('orders', 1, 0n);
      sut.completeFromOffset('chat', 0, 0n);
      sut.append(event('orders', 0, 5n, broadcast, NOW - 2000), NOW - 2000);
      sut.append(event('chat', 0, 8n, broadcast, NOW), NOW);

      sut.evict(NOW);

      expect(sut.firstReplayableOffset('orders', 0)).toBe(6n);
      expect(sut.firstReplayableOffset('orders', 1)).toBe(0n);
      expect(sut.firstReplayableOffset('chat', 0)).toBe(0n);
    });

    it('should empty and remove every index once everything is evicted', () => {
      sut = new ReplayBuffer({ windowMs: 0, maxBytes: UNLIMITED.maxBytes });
      for (const topic of ['orders', 'chat']) sut.completeFromOffset(topic, 0, 0n);
      sut.append(event('orders', 0, 0n, forUser('alice')), NOW);
      sut.append(event('orders', 0, 1n, forUsers('alice', 'bob', 'carol')), NOW);
      sut.append(event('chat', 0, 0n, broadcast), NOW);
      sut.append(event('orders', 0, 2n, broadcast), NOW);
      sut.append(event('chat', 0, 1n, forUser('dave')), NOW);
      expect(sut.size).toBe(5);
      expect(sut.byteSize).toBeGreaterThan(0);
      expect(indexes(sut).byUser.size).toBe(4);
      expect(indexes(sut).broadcasts.size).toBe(2);

      sut.evict(NOW + 1);

      expect(sut.size).toBe(0);
      expect(sut.byteSize).toBe(0);
      expect(indexes(sut).byUser.size).toBe(0);
      expect(indexes(sut).broadcasts.size).toBe(0);
      expect(sut.firstReplayableOffset('orders', 0)).toBe(3n);
      expect(sut.firstReplayableOffset('chat', 0)).toBe(2n);
    });

    it('should remove the index of a user whose last event is evicted, and keep the others', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 0n);
      sut.append(event('orders', 0, 0n, forUsers('alice', 'bob'), NOW - 2000), NOW - 2000);
      const kept = event('orders', 0, 1n, forUser('bob'), NOW);
      sut.append(kept, NOW);

      sut.evict(NOW);

      expect([...indexes(sut).byUser.keys()]).toEqual(['bob']);
      expect(sut.replay('bob', new Set(['orders']), cursor({ orders: [[0, 1n]] }))).toEqual(replayed(kept));
      expect(sut.replay('alice', new Set(['orders']), cursor({ orders: [[0, 1n]] }))).toEqual(replayed());
    });

    it('should take and replay new events after everything was evicted', () => {
      sut = new ReplayBuffer({ windowMs: 0, maxBytes: UNLIMITED.maxBytes });
      sut.completeFromOffset('orders', 0, 0n);
      sut.append(event('orders', 0, 0n, forUser('alice')), NOW);
      sut.evict(NOW + 1);
      const later = event('orders', 0, 1n, forUser('alice'), NOW + 1);

      sut.append(later, NOW + 1);

      expect(sut.size).toBe(1);
      expect(sut.byteSize).toBe(bytesOf(later));
      expect(sut.replay('alice', new Set(['orders']), cursor({ orders: [[0, 1n]] }))).toEqual(
        replayed(later),
      );
    });
  });

  describe('a producer clock ahead of ours', () => {
    it('should not let a record stamped in the future hold back the eviction of later ones', () => {
      sut = new ReplayBuffer({ windowMs: 1000, maxBytes: 1024 ** 3 });
      sut.append(event('orders', 0, 0n, forUser('alice'), NOW + 3_600_000), NOW);
      sut.append(event('orders', 0, 1n, forUser('alice'), NOW), NOW);

      sut.evict(NOW + 1001);

      expect(sut.size).toBe(0);
    });
  });
});
