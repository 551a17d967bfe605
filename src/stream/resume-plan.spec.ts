import { parseGatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import type { MutableCursor } from '../event-bus/event-id.js';
import type { Audience, GatewayEvent } from '../event-bus/gateway-event.js';
import { planResume, RESET_MESSAGES, type ResumePlan } from './resume-plan.js';

const CONFIGURED = ['orders', 'chat', 'alerts'];
const TOPICS = ['chat', 'orders'];

function cursor(entries: Record<string, Array<[number, bigint]>>): MutableCursor {
  return new Map(Object.entries(entries).map(([topic, offsets]) => [topic, new Map(offsets)]));
}

function event(topic: string, partition: number, offset: bigint, audience: Audience): GatewayEvent {
  return { topic, partition, offset, audience, timestamp: Date.now(), type: 'changed', data: '{}' };
}

describe(planResume.name, () => {
  let bus: EventBusService;

  const plan = (lastEventId: string | undefined, topics: readonly string[] = TOPICS): ResumePlan =>
    planResume(lastEventId, 'alice', topics, CONFIGURED, bus);

  beforeEach(() => {
    bus = new EventBusService(
      parseGatewayConfig({
        KAFKA_BROKERS: 'k:9092',
        JWT_SECRET: 'x'.repeat(32),
        KAFKA_TOPICS: CONFIGURED.join(','),
      }),
    );
    bus.startAt('orders', 0, 0n);
    bus.startAt('orders', 1, 0n);
    bus.startAt('chat', 0, 0n);
  });

  it('should go live without a last event id', () => {
    expect(plan(undefined)).toEqual<ResumePlan>({ kind: 'live' });
  });

  it.each(['', 'garbage', 'orders:-1', 'orders:1,orders:2', 'orders/0/1;'])(
    'should reset a malformed id %p',
    (id) => {
      expect(plan(id)).toEqual<ResumePlan>({ kind: 'reset', reason: 'malformed-id' });
    },
  );

  it('should reset an id naming a topic that is not configured', () => {
    expect(plan('orders:0,payments:3')).toEqual<ResumePlan>({ kind: 'reset', reason: 'unknown-position' });
  });

  it('should reset an id naming a partition the bus has no position for', () => {
    expect(plan('orders:0.0.5')).toEqual<ResumePlan>({ kind: 'reset', reason: 'unknown-position' });
  });

  it('should reset an id naming a configured topic the bus never started', () => {
    expect(plan('alerts:0', ['alerts'])).toEqual<ResumePlan>({ kind: 'reset', reason: 'unknown-position' });
  });

  it("should ignore a configured topic that is not among this stream's topics", () => {
    expect(plan('alerts:5,orders:0')).toEqual<ResumePlan>({
      kind: 'replay',
      events: [],
      from: cursor({ orders: [[0, 0n]] }),
    });
  });

  it('should replay the missed events of the user from the cursor of an event id', () => {
    const first = event('orders', 0, 0n, { kind: 'user', userId: 'alice' });
    const missedBroadcast = event('chat', 0, 0n, { kind: 'broadcast' });
    const missed = event('orders', 1, 0n, { kind: 'users', userIds: ['bob', 'alice'] });
    for (const published of [
      first,
      missedBroadcast,
      event('orders', 0, 1n, { kind: 'user', userId: 'bob' }),
    ]) {
      bus.publish(published);
    }
    bus.publish(missed);

    expect(plan('orders/0/0;chat:0,orders:1.0')).toEqual<ResumePlan>({
      kind: 'replay',
      events: [missedBroadcast, missed],
      from: cursor({
        chat: [[0, 0n]],
        orders: [
          [0, 1n],
          [1, 0n],
        ],
      }),
    });
  });

  it('should keep only the partitions the id names in from', () => {
    const onOne = event('orders', 1, 0n, { kind: 'user', userId: 'alice' });
    bus.publish(event('orders', 0, 0n, { kind: 'user', userId: 'alice' }));
    bus.publish(onOne);

    expect(plan('orders:.0')).toEqual<ResumePlan>({
      kind: 'replay',
      events: [onOne],
      from: cursor({ orders: [[1, 0n]] }),
    });
  });

  it('should replay nothing for a topic named without partitions', () => {
    bus.publish(event('orders', 0, 0n, { kind: 'user', userId: 'alice' }));

    expect(plan('orders:')).toEqual<ResumePlan>({ kind: 'replay', events: [], from: cursor({ orders: [] }) });
  });

  it('should reset when the events after the id are no longer kept', () => {
    bus.startAt('chat', 1, 100n);

    expect(plan('chat:0.50')).toEqual<ResumePlan>({ kind: 'reset', reason: 'too-old' });
  });

  it('should have a message for every reset reason', () => {
    expect(Object.keys(RESET_MESSAGES).sort()).toEqual(['malformed-id', 'too-old', 'unknown-position']);
  });
});
