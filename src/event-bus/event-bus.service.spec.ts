import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import { parseGatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService, type Subscriber } from './event-bus.service.js';
import { formatEventId, type StreamCursor } from './event-id.js';
import type { Audience, GatewayEvent } from './gateway-event.js';

function config(overrides: Record<string, string> = {}): GatewayConfig {
  return parseGatewayConfig({
    KAFKA_BROKERS: 'k:9092',
    JWT_SECRET: 'x'.repeat(32),
    KAFKA_TOPICS: 'orders,chat',
    ...overrides,
  });
}

const forUser = (userId: string): Audience => ({ kind: 'user', userId });
const forUsers = (...userIds: string[]): Audience => ({ kind: 'users', userIds });
const broadcast: Audience = { kind: 'broadcast' };

function event(topic: string, partition: number, offset: bigint, audience: Audience): GatewayEvent {
  return {
    topic,
    partition,
    offset,
    audience,
    timestamp: Date.now(),
    type: 'changed',
    data: `{"o":${offset}}`,
  };
}

interface Recorder extends Subscriber {
  readonly received: Array<{ readonly event: GatewayEvent; readonly id: string }>;
}

function recorder(userId: string, topics: readonly string[]): Recorder {
  const received: Array<{ event: GatewayEvent; id: string }> = [];
  return { userId, topics, received, deliver: (delivered, id) => received.push({ event: delivered, id }) };
}

function cursor(entries: Record<string, Array<[number, bigint]>>): StreamCursor {
  return new Map(Object.entries(entries).map(([topic, offsets]) => [topic, new Map(offsets)]));
}

describe(EventBusService.name, () => {
  let sut: EventBusService;

  beforeEach(() => {
    sut = new EventBusService(config());
    sut.startAt('orders', 0, 0n);
    sut.startAt('orders', 1, 0n);
    sut.startAt('chat', 0, 0n);
  });

  describe('routing', () => {
    it('should give an event for one user to that user only', () => {
      const alice = recorder('alice', ['orders']);
      const bob = recorder('bob', ['orders']);
      sut.subscribe(alice);
      sut.subscribe(bob);
      const published = event('orders', 0, 0n, forUser('alice'));

      expect(sut.publish(published)).toBe(1);

      expect(alice.received.map((r) => r.event)).toEqual([published]);
      expect(bob.received).toEqual([]);
    });

    it('should give an event to every stream of its user', () => {
      const phone = recorder('alice', ['orders']);
      const laptop = recorder('alice', ['chat', 'orders']);
      sut.subscribe(phone);
      sut.subscribe(laptop);

      expect(sut.publish(event('orders', 0, 0n, forUser('alice')))).toBe(2);

      expect(phone.received).toHaveLength(1);
      expect(laptop.received).toHaveLength(1);
    });

    it('should give an event for several users to each listed user', () => {
      const alice = recorder('alice', ['orders']);
      const bob = recorder('bob', ['orders']);
      const carol = recorder('carol', ['orders']);
      for (const subscriber of [alice, bob, carol]) sut.subscribe(subscriber);
      const published = event('orders', 0, 0n, forUsers('alice', 'carol', 'nobody'));

      expect(sut.publish(published)).toBe(2);

      expect(alice.received.map((r) => r.event)).toEqual([published]);
      expect(bob.received).toEqual([]);
      expect(carol.received.map((r) => r.event)).toEqual([published]);
    });

    it('should give a broadcast to every subscriber of its topic and no one else', () => {
      const alice = recorder('alice', ['orders']);
      const bob = recorder('bob', ['chat', 'orders']);
      const carol = recorder('carol', ['chat']);
      for (const subscriber of [alice, bob, carol]) sut.subscribe(subscriber);

      expect(sut.publish(event('orders', 0, 0n, broadcast))).toBe(2);

      expect(alice.received).toHaveLength(1);
      expect(bob.received).toHaveLength(1);
      expect(carol.received).toEqual([]);
    });

    it('should give a subscriber the events of each of its topics, and none of others', () => {
      const alice = recorder('alice', ['chat', 'orders']);
      const ordersOnly = recorder('alice', ['orders']);
      sut.subscribe(alice);
      sut.subscribe(ordersOnly);
      const onOrders = event('orders', 1, 0n, forUser('alice'));
      const onChat = event('chat', 0, 0n, forUser('alice'));

      sut.publish(onOrders);
      sut.publish(onChat);

      expect(alice.received.map((r) => r.event)).toEqual([onOrders, onChat]);
      expect(ordersOnly.received.map((r) => r.event)).toEqual([onOrders]);
    });

    it('should deliver nothing, and still count the event as processed, without subscribers', () => {
      expect(sut.publish(event('orders', 0, 4n, forUser('alice')))).toBe(0);

      expect(sut.nextOffset('orders', 0)).toBe(5n);
      expect(sut.bufferedEvents).toBe(1);
    });

    it("should visit only the user's own streams, however many others are open", () => {
      let othersCalls = 0;
      for (let i = 0; i < 1000; i++) {
        sut.subscribe({ userId: `user-${i}`, topics: ['orders'], deliver: () => othersCalls++ });
      }
      let aliceCalls = 0;
      sut.subscribe({ userId: 'alice', topics: ['orders'], deliver: () => aliceCalls++ });

      expect(sut.publish(event('orders', 0, 0n, forUser('alice')))).toBe(1);

      expect(aliceCalls).toBe(1);
      expect(othersCalls).toBe(0);
    });

    it('should visit every subscriber of the topic for a broadcast', () => {
      let calls = 0;
      for (let i = 0; i < 1000; i++) {
        sut.subscribe({ userId: `user-${i}`, topics: ['orders'], deliver: () => calls++ });
      }

      expect(sut.publish(event('orders', 0, 0n, broadcast))).toBe(1000);
      expect(calls).toBe(1000);
    });
  });

  describe('subscribe', () => {
    it('should count subscribers up and down', () => {
      expect(sut.subscriberCount).toBe(0);
      const first = sut.subscribe(recorder('alice', ['orders']));
      const second = sut.subscribe(recorder('alice', ['chat', 'orders']));
      expect(sut.subscriberCount).toBe(2);

      first();
      expect(sut.subscriberCount).toBe(1);
      second();
      expect(sut.subscriberCount).toBe(0);
    });

    it('should deliver nothing after unsubscribing', () => {
      const alice = recorder('alice', ['chat', 'orders']);
      const unsubscribe = sut.subscribe(alice);

      unsubscribe();

      expect(sut.publish(event('orders', 0, 0n, forUser('alice')))).toBe(0);
      expect(sut.publish(event('chat', 0, 0n, broadcast))).toBe(0);
      expect(alice.received).toEqual([]);
    });

    it('should make unsubscribing more than once harmless to other streams', () => {
      const phone = recorder('alice', ['orders']);
      const laptop = recorder('alice', ['orders']);
      const unsubscribePhone = sut.subscribe(phone);
      sut.subscribe(laptop);

      unsubscribePhone();
      unsubscribePhone();

      expect(sut.subscriberCount).toBe(1);
      expect(sut.publish(event('orders', 0, 0n, forUser('alice')))).toBe(1);
      expect(phone.received).toEqual([]);
      expect(laptop.received).toHaveLength(1);
    });

    it('should take a new subscriber for a topic whose subscribers all left', () => {
      sut.subscribe(recorder('alice', ['orders']))();
      const bob = recorder('bob', ['orders']);
      sut.subscribe(bob);

      expect(sut.publish(event('orders', 0, 0n, broadcast))).toBe(1);
      expect(bob.received).toHaveLength(1);
    });
  });

  describe('redeliveries', () => {
    it('should deliver a record published twice only once', () => {
      const alice = recorder('alice', ['orders']);
      sut.subscribe(alice);
      sut.publish(event('orders', 0, 5n, forUser('alice')));

      expect(sut.publish(event('orders', 0, 5n, forUser('alice')))).toBe(0);

      expect(alice.received).toHaveLength(1);
      expect(sut.bufferedEvents).toBe(1);
    });

    it('should deliver nothing for an offset below the position, and not move back', () => {
      const alice = recorder('alice', ['orders']);
      sut.subscribe(alice);
      sut.publish(event('orders', 0, 5n, forUser('alice')));

      expect(sut.publish(event('orders', 0, 3n, forUser('alice')))).toBe(0);

      expect(alice.received).toHaveLength(1);
      expect(sut.nextOffset('orders', 0)).toBe(6n);
      expect(sut.checkpoint(['orders'])).toBe('orders:6.0');
    });

    it('should deliver nothing before where consumption started', () => {
      sut.startAt('chat', 1, 10n);
      const alice = recorder('alice', ['chat']);
      sut.subscribe(alice);

      expect(sut.publish(event('chat', 1, 9n, broadcast))).toBe(0);
      expect(alice.received).toEqual([]);
    });
  });

  describe('ids', () => {
    it("should be the event's position, then the cursor of the subscriber's topics just after it", () => {
      const alice = recorder('alice', ['chat', 'orders']);
      const ordersOnly = recorder('alice', ['orders']);
      sut.subscribe(alice);
      sut.subscribe(ordersOnly);
      const published = event('orders', 1, 0n, forUser('alice'));

      sut.publish(published);

      expect(alice.received[0]?.id).toBe('orders/1/0;chat:0,orders:0.1');
      expect(alice.received[0]?.id).toBe(formatEventId(published, sut.checkpoint(['chat', 'orders'])));
      expect(ordersOnly.received[0]?.id).toBe('orders/1/0;orders:0.1');
    });

    it('should give subscribers on the same topics the identical id', () => {
      const alice = recorder('alice', ['chat', 'orders']);
      const bob = recorder('bob', ['chat', 'orders']);
      sut.subscribe(alice);
      sut.subscribe(bob);

      sut.publish(event('chat', 0, 0n, broadcast));

      expect(alice.received[0]?.id).toBe('chat/0/0;chat:1,orders:0.0');
      expect(bob.received[0]?.id).toBe(alice.received[0]?.id);
    });

    it('should advance the id with each event', () => {
      const alice = recorder('alice', ['orders']);
      sut.subscribe(alice);

      sut.publish(event('orders', 0, 0n, forUser('alice')));
      sut.publish(event('orders', 0, 1n, forUser('bob')));
      sut.publish(event('orders', 0, 2n, forUser('alice')));

      expect(alice.received.map((r) => r.id)).toEqual(['orders/0/0;orders:1.0', 'orders/0/2;orders:3.0']);
    });
  });

  describe('checkpoint', () => {
    it('should be the start positions before anything was processed', () => {
      expect(sut.checkpoint(['chat', 'orders'])).toBe('chat:0,orders:0.0');
    });

    it('should show a topic not started yet with no partitions', () => {
      expect(sut.checkpoint(['idle', 'chat'])).toBe('idle:,chat:0');
    });

    it('should move past each published record', () => {
      sut.publish(event('orders', 1, 0n, broadcast));
      sut.publish(event('orders', 0, 7n, forUser('alice')));

      expect(sut.checkpoint(['chat', 'orders'])).toBe('chat:0,orders:8.1');
      expect(sut.positionsOf(['orders'])).toEqual(
        cursor({
          orders: [
            [0, 8n],
            [1, 1n],
          ],
        }),
      );
    });

    it('should keep start positions that are already set', () => {
      sut.publish(event('orders', 0, 3n, broadcast));

      sut.startAt('orders', 0, 0n);

      expect(sut.nextOffset('orders', 0)).toBe(4n);
    });
  });

  describe('skip', () => {
    it('should move the checkpoint past the record without delivering anything', () => {
      const alice = recorder('alice', ['orders']);
      sut.subscribe(alice);

      sut.skip({ topic: 'orders', partition: 0, offset: 4n });

      expect(alice.received).toEqual([]);
      expect(sut.checkpoint(['orders'])).toBe('orders:5.0');
      expect(sut.bufferedEvents).toBe(0);
      expect(sut.publish(event('orders', 0, 4n, forUser('alice')))).toBe(0);
    });
  });

  describe('a failing subscriber', () => {
    let logged: string[];

    beforeEach(() => {
      logged = [];
      jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
        logged.push(String(message));
      });
    });

    afterEach(() => {
      jest.restoreAllMocks();
    });

    it('should not stop delivery to the others, and be logged', () => {
      const before = recorder('alice', ['orders']);
      const after = recorder('alice', ['chat', 'orders']);
      sut.subscribe(before);
      sut.subscribe({
        userId: 'alice',
        topics: ['orders'],
        deliver: () => {
          throw new Error('socket gone');
        },
      });
      sut.subscribe(after);

      expect(sut.publish(event('orders', 0, 0n, forUser('alice')))).toBe(2);

      expect(before.received).toHaveLength(1);
      expect(after.received).toHaveLength(1);
      expect(logged).toEqual(['A stream failed to take an event: socket gone']);
    });
  });

  describe('replay', () => {
    it('should replay the published events of the user from the given cursor', () => {
      const first = event('orders', 0, 0n, forUser('alice'));
      const second = event('chat', 0, 0n, broadcast);
      const third = event('orders', 0, 1n, forUser('alice'));
      for (const published of [first, event('orders', 1, 0n, forUser('bob')), second, third]) {
        sut.publish(published);
      }

      expect(
        sut.replay(
          'alice',
          new Set(['chat', 'orders']),
          cursor({
            orders: [
              [0, 0n],
              [1, 0n],
            ],
            chat: [[0, 0n]],
          }),
        ),
      ).toEqual({ ok: true, events: [first, second, third] });
      expect(sut.replay('alice', new Set(['orders']), cursor({ orders: [[0, 1n]] }))).toEqual({
        ok: true,
        events: [third],
      });
    });

    it('should refuse a resume point before where consumption started', () => {
      sut.startAt('chat', 1, 50n);

      expect(sut.replay('alice', new Set(['chat']), cursor({ chat: [[1, 49n]] }))).toEqual({
        ok: false,
        reason: 'too-old',
      });
    });
  });

  describe('eviction timer', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });

    afterEach(() => {
      sut.onModuleDestroy();
      jest.useRealTimers();
    });

    it('should drop events out of the window as time passes, and stop on destroy', () => {
      sut = new EventBusService(config({ REPLAY_WINDOW_MS: '1000' }));
      sut.startAt('orders', 0, 0n);
      const timers = jest.getTimerCount();
      sut.onModuleInit();
      sut.publish(event('orders', 0, 0n, broadcast));
      expect(sut.bufferedEvents).toBe(1);

      jest.advanceTimersByTime(1000);
      expect(sut.bufferedEvents).toBe(1);
      jest.advanceTimersByTime(1000);
      expect(sut.bufferedEvents).toBe(0);

      sut.onModuleDestroy();
      expect(jest.getTimerCount()).toBe(timers);
    });
  });
});
