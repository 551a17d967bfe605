import type { GatewayEvent } from './gateway-event.js';
import { LogPosition } from './log-position.js';
import type { HubSubscriber } from './stream-hub.js';
import type { EventBusService } from './event-bus.service.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { alice, bob, everyone, eventOf, newBus, publish } from '../testing/fixtures.js';

interface Received {
  readonly deliveries: Array<[GatewayEvent, string]>;
  readonly changed: Array<[string, number]>;
  lost: number;
}

describe('EventBusService', () => {
  let sut: EventBusService;
  let metrics: MetricsService;

  beforeEach(() => {
    ({ bus: sut, metrics } = newBus());
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
      sut,
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

    publish(sut, eventOf('orders', 1, 0, alice));

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

    publish(sut, eventOf('orders', 0, 0, everyone));

    const ids = streams.map((stream) => stream.deliveries[0]![1]);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('should not hand a redelivered record to anyone twice', () => {
    const received = subscribe('alice', ['orders']);
    const event = eventOf('orders', 0, 0, alice);

    publish(sut, event);
    sut.dispatch({
      topic: 'orders',
      partition: 0,
      fetchedOffset: 0,
      highWatermark: 1,
      offsetReset: false,
      next: 1,
      events: [event],
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
    publish(sut, eventOf('orders', 0, 0, alice));

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

    expect(publish(sut, eventOf('orders', 0, 0, alice))).toBe(1);
    expect(other.deliveries).toHaveLength(1);
  });

  it('should replay from the store, and move positions past records that carry no event', () => {
    publish(sut, eventOf('orders', 0, 0, alice), eventOf('orders', 0, 1, bob));
    sut.dispatch({
      topic: 'orders',
      partition: 0,
      fetchedOffset: 2,
      highWatermark: 5,
      offsetReset: false,
      next: 5,
      events: [],
    });

    const result = sut.replay('alice', sut.topicSet(['orders']), LogPosition.parse('orders:0')!);

    expect(result.ok && result.events.map((event) => event.offset)).toEqual([0]);
    expect(sut.position(sut.topicSet(['orders'])).get('orders', 0)).toBe(5);
  });

  it('should tell the streams of a partition whose log changed, and start it over', () => {
    const received = subscribe('alice', ['orders']);
    publish(sut, eventOf('orders', 0, 0, alice), eventOf('orders', 0, 1, alice));

    sut.dispatch({
      topic: 'orders',
      partition: 0,
      fetchedOffset: 0,
      highWatermark: 1,
      offsetReset: true,
      next: 1,
      events: [eventOf('orders', 0, 0, alice)],
    });

    expect(received.changed).toEqual([['orders', 0]]);
    expect(received.deliveries).toHaveLength(3);
    expect(sut.nextOffset('orders', 0)).toBe(1);
  });

  it('should send every stream elsewhere when the feed is lost, and take new ones once it is back', () => {
    const received = subscribe('alice', ['orders']);

    sut.feedLost('the consumer stopped');
    sut.feedLost('again');

    expect(received.lost).toBe(1);
    expect(sut.available).toBe(false);
    sut.feedRestored();
    expect(sut.available).toBe(true);
  });

  it('should start a partition it first hears of from the consumer where the consumer reads', () => {
    const received = subscribe('alice', ['orders']);

    sut.dispatch({
      topic: 'orders',
      partition: 7,
      fetchedOffset: 0,
      highWatermark: 1,
      offsetReset: false,
      next: 1,
      events: [eventOf('orders', 7, 0, alice)],
    });

    expect(received.deliveries).toHaveLength(1);
    expect(sut.knows('orders', 7)).toBe(true);
  });

  it('should forget the partitions another instance owns now, their lag included', async () => {
    metrics.lag('orders', 0, 3);
    metrics.lag('orders', 1, 5);

    sut.dropPartitions('orders', new Set([1]));

    const lag = await metrics.registry.getSingleMetric('kafka_consumer_lag')!.get();
    expect(lag.values.map(({ labels, value }) => [labels.partition, value])).toEqual([['0', 3]]);
    expect(sut.knows('orders', 1)).toBe(false);
    expect(sut.knows('orders', 0)).toBe(true);
  });
});
