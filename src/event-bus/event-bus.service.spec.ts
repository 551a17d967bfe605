import type { GatewayEvent } from '../log/gateway-event.js';
import { LogPosition } from '../log/log-position.js';
import type { PartitionLogService } from '../log/partition-log.service.js';
import { alice, everyone, eventOf, newLog, publish } from '../testing/fixtures.js';
import type { EventBusService } from './event-bus.service.js';
import type { HubSubscriber } from './stream-hub.js';

interface Received {
  readonly deliveries: Array<[GatewayEvent, string]>;
  readonly changed: Array<[string, number]>;
  lost: number;
}

describe('EventBusService', () => {
  let sut: EventBusService;
  let log: PartitionLogService;

  beforeEach(() => {
    ({ bus: sut, log } = newLog());
  });

  function subscribe(userId: string, topics: string[]): Received {
    const received: Received = { deliveries: [], changed: [], lost: 0 };
    const subscriber: HubSubscriber = {
      userId,
      topicSet: sut.topicSet(topics),
      deliver: (event, id) => received.deliveries.push([event, id]),
      logChanged: (topic, partition) => received.changed.push([topic, partition]),
      feedLost: () => received.lost++,
    };
    sut.subscribe(subscriber);
    return received;
  }

  it('should hand each event to the streams it is addressed to, on their topics only', () => {
    const alices = subscribe('alice', ['orders']);
    const bobs = subscribe('bob', ['chat', 'orders']);

    const delivered = publish(
      log,
      eventOf('orders', 0, 0, alice),
      eventOf('orders', 0, 1, everyone),
      eventOf('chat', 0, 0, alice),
      eventOf('orders', 1, 0, { kind: 'users', userIds: ['bob', 'carol'] }),
    );

    expect(delivered).toBe(4);
    expect(alices.deliveries.map(([event]) => `${event.topic}/${event.partition}/${event.offset}`)).toEqual([
      'orders/0/0',
      'orders/0/1',
    ]);
    expect(bobs.deliveries.map(([event]) => `${event.topic}/${event.partition}/${event.offset}`)).toEqual([
      'orders/0/1',
      'orders/1/0',
    ]);
  });

  it("should give every event an id: its position, then the stream's cursor just past it", () => {
    const received = subscribe('alice', ['chat', 'orders']);

    publish(log, eventOf('orders', 1, 0, alice));

    const [[, id]] = received.deliveries as [[GatewayEvent, string]];
    expect(id.split(';')[0]).toBe('orders/1/0');
    const cursor = LogPosition.parse(id)!;
    expect([cursor.get('orders', 0), cursor.get('orders', 1), cursor.get('chat', 0)]).toEqual([0, 1, 0]);
  });

  it('should share one id among the streams of a topic set, for a broadcast', () => {
    const streams = [
      subscribe('alice', ['orders']),
      subscribe('bob', ['orders']),
      subscribe('carol', ['chat', 'orders']),
    ];

    publish(log, eventOf('orders', 0, 0, everyone));

    const ids = streams.map((stream) => stream.deliveries[0]![1]);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('should not hand a redelivered record to anyone twice', () => {
    const received = subscribe('alice', ['orders']);
    const event = eventOf('orders', 0, 0, alice);

    publish(log, event);
    log.append({
      topic: 'orders',
      partition: 0,
      fetchedOffset: 0,
      highWatermark: 1,
      offsetReset: false,
      next: 1,
      records: [event],
    });

    expect(received.deliveries).toHaveLength(1);
  });

  it('should stop delivering to a stream once it unsubscribes, however often it does', () => {
    const received: Array<string> = [];
    const unsubscribe = sut.subscribe({
      userId: 'alice',
      topicSet: sut.topicSet(['orders']),
      deliver: (_, id) => received.push(id),
      logChanged: () => undefined,
      feedLost: () => undefined,
    });

    unsubscribe();
    unsubscribe();
    publish(log, eventOf('orders', 0, 0, alice));

    expect(received).toEqual([]);
    expect(sut.subscriberCount).toBe(0);
  });

  it('should keep a stream that throws from costing the others their event', () => {
    sut.subscribe({
      userId: 'alice',
      topicSet: sut.topicSet(['orders']),
      deliver: () => {
        throw new Error('broken stream');
      },
      logChanged: () => undefined,
      feedLost: () => undefined,
    });
    const other = subscribe('alice', ['orders']);

    expect(publish(log, eventOf('orders', 0, 0, alice))).toBe(1);
    expect(other.deliveries).toHaveLength(1);
  });

  it('should tell the streams of a topic whose log changed, and send every stream elsewhere when the feed is lost', () => {
    const orders = subscribe('alice', ['orders']);
    const chat = subscribe('bob', ['chat']);

    sut.logChanged('orders', 0);
    sut.feedLost();

    expect(orders.changed).toEqual([['orders', 0]]);
    expect(chat.changed).toEqual([]);
    expect([orders.lost, chat.lost]).toEqual([1, 1]);
  });
});
