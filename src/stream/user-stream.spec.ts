import type { MessageEvent } from '@nestjs/common';
import { jest } from '@jest/globals';
import { Observable, type Subscription } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { parseGatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { parseCursor } from '../event-bus/event-id.js';
import type { Audience, GatewayEvent } from '../event-bus/gateway-event.js';
import { RESET_MESSAGES } from './resume-plan.js';
import { UserStream } from './user-stream.js';

const HEARTBEAT_MS = 5000;
const RETRY_MS = 3000;
const MAX_LIFETIME_MS = 600_000;
const TOPICS = ['chat', 'orders'];

const config: GatewayConfig = parseGatewayConfig({
  KAFKA_BROKERS: 'k:9092',
  JWT_SECRET: 'x'.repeat(32),
  KAFKA_TOPICS: 'orders,chat,alerts',
  SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
  SSE_RETRY_MS: String(RETRY_MS),
  SSE_MAX_LIFETIME_MS: String(MAX_LIFETIME_MS),
});

const forAlice: Audience = { kind: 'user', userId: 'alice' };
const forBob: Audience = { kind: 'user', userId: 'bob' };
const broadcast: Audience = { kind: 'broadcast' };

function event(topic: string, partition: number, offset: bigint, audience: Audience): GatewayEvent {
  return { topic, partition, offset, audience, timestamp: Date.now(), type: 'changed', data: `"${offset}"` };
}

/** The message a delivered or replayed event becomes. */
const message = (delivered: GatewayEvent, id: string): MessageEvent => ({
  type: delivered.type,
  id,
  data: delivered.data,
});

/** The offset of a topic-partition in the cursor an id carries. */
function offsetIn(id: string | undefined, topic: string, partition: number): bigint | undefined {
  return parseCursor(id ?? '')
    ?.get(topic)
    ?.get(partition);
}

interface OpenStream {
  readonly messages: MessageEvent[];
  readonly stream: UserStream;
  readonly subscription: Subscription;
  readonly completed: () => boolean;
}

describe(UserStream.name, () => {
  let bus: EventBusService;
  let alice: AuthUser;
  let opened: OpenStream[];

  /** As EventStreamService does it: the stream lives inside an Observable, stopped on teardown. */
  function open(
    lastEventId?: string,
    user: AuthUser = alice,
    topics: readonly string[] = TOPICS,
  ): OpenStream {
    const messages: MessageEvent[] = [];
    let completed = false;
    let stream: UserStream | undefined;
    const subscription = new Observable<MessageEvent>((observer) => {
      const created = new UserStream(observer, user, topics, bus, config);
      stream = created;
      created.start(lastEventId);
      return () => created.stop();
    }).subscribe({
      next: (received) => messages.push(received),
      complete: () => (completed = true),
    });
    if (!stream) throw new Error('the stream did not start');
    const result = { messages, stream, subscription, completed: () => completed };
    opened.push(result);
    return result;
  }

  beforeEach(() => {
    jest.useFakeTimers();
    opened = [];
    alice = { id: 'alice', topics: undefined, expiresAt: Date.now() + 3_600_000 };
    bus = new EventBusService(config);
    bus.startAt('orders', 0, 0n);
    bus.startAt('orders', 1, 0n);
    bus.startAt('chat', 0, 0n);
  });

  afterEach(() => {
    for (const { subscription } of opened) subscription.unsubscribe();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  describe('start', () => {
    it("should first send a checkpoint with the bus's position and the retry delay", () => {
      const { messages } = open();

      expect(messages).toEqual<MessageEvent[]>([
        { type: 'checkpoint', id: 'chat:0,orders:0.0', data: '', retry: RETRY_MS },
      ]);
    });

    it('should deliver live events for the user with the ids the bus gives them', () => {
      const { messages } = open();
      const first = event('orders', 0, 0n, forAlice);
      const second = event('orders', 1, 0n, broadcast);

      bus.publish(first);
      bus.publish(event('chat', 0, 0n, forBob));
      bus.publish(second);

      expect(messages.slice(1)).toEqual([
        message(first, 'orders/0/0;chat:0,orders:1.0'),
        message(second, 'orders/1/0;chat:1,orders:1.1'),
      ]);
    });

    it('should not deliver events of topics the stream does not read', () => {
      bus.startAt('alerts', 0, 0n);
      const { messages } = open(undefined, alice, ['orders']);

      bus.publish(event('alerts', 0, 0n, forAlice));
      bus.publish(event('chat', 0, 0n, forAlice));

      expect(messages).toHaveLength(1);
    });
  });

  describe('while the instance is still reading history after start-up', () => {
    it('should start a stream without an id at the log end, not send the history as live', () => {
      bus.startAt('chat', 3, 0n, 3n);
      const { messages } = open();

      bus.publish(event('chat', 3, 0n, forAlice));
      bus.publish(event('chat', 3, 1n, broadcast));
      bus.publish(event('chat', 3, 2n, forAlice));
      const live = event('chat', 3, 3n, forAlice);
      bus.publish(live);

      expect(offsetIn(messages[0]?.id, 'chat', 3)).toBe(3n);
      expect(messages.slice(1).map((received) => received.data)).toEqual([live.data]);
      expect(offsetIn(messages[1]?.id, 'chat', 3)).toBe(4n);
    });
  });

  describe('resume', () => {
    const seen = event('orders', 0, 0n, forAlice);
    const missedOnOne = event('orders', 1, 0n, forAlice);
    const missedBroadcast = event('chat', 0, 1n, broadcast);
    const missedOnZero = event('orders', 0, 1n, forAlice);

    beforeEach(() => {
      bus.publish(seen);
      bus.publish(event('chat', 0, 0n, forBob));
      bus.publish(missedOnOne);
      bus.publish(missedBroadcast);
      bus.publish(event('orders', 1, 1n, forBob));
      bus.publish(missedOnZero);
    });

    it('should replay exactly the missed events, the cursor advancing event by event', () => {
      const { messages } = open('orders/0/0;chat:0,orders:1.0');

      expect(messages).toEqual<MessageEvent[]>([
        { type: 'checkpoint', id: 'chat:0,orders:1.0', data: '', retry: RETRY_MS },
        message(missedOnOne, 'orders/1/0;chat:0,orders:1.1'),
        message(missedBroadcast, 'chat/0/1;chat:2,orders:1.1'),
        message(missedOnZero, 'orders/0/1;chat:2,orders:2.1'),
      ]);
      const ids = messages.slice(1).map((received) => received.id);
      expect(ids.map((id) => offsetIn(id, 'orders', 0))).toEqual([1n, 1n, 2n]);
      expect(ids.map((id) => offsetIn(id, 'orders', 1))).toEqual([1n, 1n, 1n]);
      expect(ids.map((id) => offsetIn(id, 'chat', 0))).toEqual([0n, 2n, 2n]);
    });

    it('should go on live after the replay without duplicates', () => {
      const { messages } = open('orders/0/0;chat:0,orders:1.0');
      const live = event('orders', 0, 2n, forAlice);

      bus.publish(missedOnZero);
      bus.publish(live);

      expect(messages.map((received) => received.id)).toEqual([
        'chat:0,orders:1.0',
        'orders/1/0;chat:0,orders:1.1',
        'chat/0/1;chat:2,orders:1.1',
        'orders/0/1;chat:2,orders:2.1',
        'orders/0/2;chat:2,orders:3.2',
      ]);
      expect(messages.at(-1)).toEqual(message(live, 'orders/0/2;chat:2,orders:3.2'));
    });

    it('should replay nothing and go live from an up-to-date id', () => {
      const { messages } = open(bus.checkpoint(TOPICS));
      const live = event('chat', 0, 2n, forAlice);

      bus.publish(live);

      expect(messages).toEqual<MessageEvent[]>([
        { type: 'checkpoint', id: 'chat:2,orders:2.2', data: '', retry: RETRY_MS },
        message(live, 'chat/0/2;chat:3,orders:2.2'),
      ]);
    });

    it('should replay topics the id names and take the others live', () => {
      const { messages } = open('orders:1.0');

      expect(messages).toEqual<MessageEvent[]>([
        { type: 'checkpoint', id: 'chat:2,orders:1.0', data: '', retry: RETRY_MS },
        message(missedOnOne, 'orders/1/0;chat:2,orders:1.1'),
        message(missedOnZero, 'orders/0/1;chat:2,orders:2.1'),
      ]);
    });
  });

  describe('reset', () => {
    it('should send a reset after the first message for a malformed id, then go live', () => {
      bus.publish(event('orders', 0, 0n, forBob));
      const { messages } = open('not an id');
      const live = event('orders', 0, 1n, forAlice);

      bus.publish(live);

      expect(messages).toEqual<MessageEvent[]>([
        { type: 'checkpoint', id: 'chat:0,orders:1.0', data: '', retry: RETRY_MS },
        {
          type: 'reset',
          id: 'chat:0,orders:1.0',
          data: JSON.stringify({ reason: 'malformed-id', message: RESET_MESSAGES['malformed-id'] }),
        },
        message(live, 'orders/0/1;chat:0,orders:2.0'),
      ]);
    });

    it('should send a reset for an id whose events are no longer kept', () => {
      bus.startAt('chat', 1, 100n);
      const { messages } = open('chat:0.50');

      expect(messages.map((received) => received.type)).toEqual(['checkpoint', 'reset']);
      expect(JSON.parse(messages[1]?.data as string)).toEqual({
        reason: 'too-old',
        message: RESET_MESSAGES['too-old'],
      });
    });

    it('should send a reset for an id naming a partition the bus does not know', () => {
      const { messages } = open('orders:0.0.4');

      expect(JSON.parse(messages[1]?.data as string)).toEqual({
        reason: 'unknown-position',
        message: RESET_MESSAGES['unknown-position'],
      });
    });
  });

  describe('an id ahead of this instance', () => {
    beforeEach(() => {
      for (const offset of [0n, 1n, 2n, 3n, 4n]) bus.publish(event('orders', 0, offset, forBob));
    });

    it('should not deliver live events below the floor, deliver those at or after it, and never go below it', () => {
      const { messages } = open('orders/0/7;chat:0,orders:8.0');
      const belowOnZero = event('orders', 0, 5n, forAlice);
      const onOne = event('orders', 1, 0n, forAlice);
      const atFloor = event('orders', 0, 8n, forAlice);
      const afterFloor = event('orders', 0, 9n, forAlice);

      bus.publish(belowOnZero);
      bus.publish(onOne);
      jest.advanceTimersByTime(HEARTBEAT_MS);
      bus.publish(event('orders', 0, 6n, broadcast));
      bus.publish(event('orders', 0, 7n, forAlice));
      bus.publish(atFloor);
      bus.publish(afterFloor);

      expect(messages).toEqual<MessageEvent[]>([
        { type: 'checkpoint', id: 'chat:0,orders:8.0', data: '', retry: RETRY_MS },
        message(onOne, 'orders/1/0;chat:0,orders:8.1'),
        { type: 'checkpoint', id: 'chat:0,orders:8.1', data: '', comment: '' },
        message(atFloor, 'orders/0/8;chat:0,orders:9.1'),
        message(afterFloor, 'orders/0/9;chat:0,orders:10.1'),
      ]);
      for (const { id } of messages) expect(offsetIn(id, 'orders', 0)).toBeGreaterThanOrEqual(8n);
    });

    it('should keep the floor in heartbeats until the instance catches up', () => {
      const { messages } = open('chat:0,orders:7.0');

      jest.advanceTimersByTime(HEARTBEAT_MS);
      bus.publish(event('orders', 0, 5n, forBob));
      bus.publish(event('orders', 0, 6n, forBob));
      bus.publish(event('orders', 0, 7n, forBob));
      jest.advanceTimersByTime(HEARTBEAT_MS);

      expect(messages.map((received) => received.id)).toEqual([
        'chat:0,orders:7.0',
        'chat:0,orders:7.0',
        'chat:0,orders:8.0',
      ]);
    });
  });

  describe('heartbeat', () => {
    it('should send a checkpoint comment every heartbeat interval with the current position', () => {
      const { messages } = open();

      jest.advanceTimersByTime(HEARTBEAT_MS - 1);
      expect(messages).toHaveLength(1);

      jest.advanceTimersByTime(1);
      bus.publish(event('orders', 1, 4n, forBob));
      jest.advanceTimersByTime(HEARTBEAT_MS);

      expect(messages.slice(1)).toEqual<MessageEvent[]>([
        { type: 'checkpoint', comment: '', id: 'chat:0,orders:0.0', data: '' },
        { type: 'checkpoint', comment: '', id: 'chat:0,orders:0.5', data: '' },
      ]);
    });
  });

  describe('end', () => {
    it('should complete at token expiry with a final checkpoint', () => {
      const timers = jest.getTimerCount();
      const { messages, completed } = open(undefined, { ...alice, expiresAt: Date.now() + 12_000 });
      bus.publish(event('orders', 0, 0n, forBob));

      jest.advanceTimersByTime(11_999);
      expect(completed()).toBe(false);

      jest.advanceTimersByTime(1);
      expect(completed()).toBe(true);
      expect(messages.at(-1)).toEqual<MessageEvent>({
        type: 'checkpoint',
        id: 'chat:0,orders:1.0',
        data: '',
        comment: 'expired',
      });
      expect(bus.subscriberCount).toBe(0);
      expect(jest.getTimerCount()).toBe(timers);
    });

    it('should complete at once for a token that already expired', () => {
      const { messages, completed } = open(undefined, { ...alice, expiresAt: Date.now() - 1 });

      expect(completed()).toBe(true);
      expect(messages).toEqual<MessageEvent[]>([
        { type: 'checkpoint', id: 'chat:0,orders:0.0', data: '', retry: RETRY_MS },
        { type: 'checkpoint', id: 'chat:0,orders:0.0', data: '', comment: 'expired' },
      ]);
      expect(bus.subscriberCount).toBe(0);
    });

    it('should end within the last fifth of its lifetime', () => {
      const { messages, completed } = open();

      jest.advanceTimersByTime(MAX_LIFETIME_MS * 0.8 - 1);
      expect(completed()).toBe(false);

      jest.advanceTimersByTime(MAX_LIFETIME_MS * 0.2 + 1);
      expect(completed()).toBe(true);
      expect(messages.at(-1)).toEqual<MessageEvent>({
        type: 'checkpoint',
        id: 'chat:0,orders:0.0',
        data: '',
        comment: 'lifetime',
      });
    });

    it.each([
      [0, MAX_LIFETIME_MS],
      [0.5, MAX_LIFETIME_MS * 0.9],
    ])('should end the lifetime at the jittered time for random %p', (random, endsAfter) => {
      jest.spyOn(Math, 'random').mockReturnValue(random);
      const { completed } = open();

      jest.advanceTimersByTime(endsAfter - 1);
      expect(completed()).toBe(false);

      jest.advanceTimersByTime(1);
      expect(completed()).toBe(true);
    });

    it('should end at expiry when the token expires before the lifetime ends', () => {
      const { messages } = open(undefined, { ...alice, expiresAt: Date.now() + MAX_LIFETIME_MS * 0.5 });

      jest.advanceTimersByTime(MAX_LIFETIME_MS * 0.5);

      expect(messages.at(-1)?.comment).toBe('expired');
    });

    it('should end at shutdown with a checkpoint that carries the retry delay', () => {
      const { messages, stream, completed } = open();
      bus.publish(event('chat', 0, 0n, forBob));

      stream.end('shutdown');

      expect(completed()).toBe(true);
      expect(messages.at(-1)).toEqual<MessageEvent>({
        type: 'checkpoint',
        id: 'chat:1,orders:0.0',
        data: '',
        comment: 'shutdown',
        retry: RETRY_MS,
      });
      expect(bus.subscriberCount).toBe(0);
    });

    it('should send nothing when ended twice', () => {
      const { messages, stream } = open();
      stream.end('shutdown');
      const count = messages.length;

      stream.end('shutdown');
      stream.end('lifetime');

      expect(messages).toHaveLength(count);
    });
  });

  describe('stop', () => {
    it('should unsubscribe from the bus and clear its timers', () => {
      const timers = jest.getTimerCount();
      const { subscription } = open();
      open(undefined, { ...alice, id: 'bob' });
      expect(bus.subscriberCount).toBe(2);
      expect(jest.getTimerCount()).toBeGreaterThan(timers);

      subscription.unsubscribe();

      expect(bus.subscriberCount).toBe(1);
      opened[1]?.subscription.unsubscribe();
      expect(bus.subscriberCount).toBe(0);
      expect(jest.getTimerCount()).toBe(timers);
    });

    it('should send nothing more once stopped', () => {
      const timers = jest.getTimerCount();
      const { messages, stream } = open();

      stream.stop();
      bus.publish(event('orders', 0, 0n, forAlice));
      jest.advanceTimersByTime(MAX_LIFETIME_MS);

      expect(messages).toHaveLength(1);
      expect(bus.subscriberCount).toBe(0);
      expect(jest.getTimerCount()).toBe(timers);
    });
  });
});
