import { jest } from '@jest/globals';
import { EventClient, type ClientOptions, type GatewayEvent, type StatusEvent } from './event-client.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeGateway, tokenExpiringAt } from './testing/fake-gateway.js';

interface Events extends Record<string, unknown> {
  'order.created': { n: number };
}

describe(EventClient.name, () => {
  let clock: FakeClock;
  let gateway: FakeGateway;
  let seen: GatewayEvent[];
  let statuses: StatusEvent[];

  /** One tab on its own (no Web Locks), as most of these cases need. */
  const connect = (options: Partial<ClientOptions> = {}) => {
    const sut = new EventClient<Events>({
      url: 'https://gw.example/events',
      topics: ['orders'],
      environment: clock.environment(gateway.fetch),
      locks: null,
      ...options,
    });
    sut.onAny((event) => seen.push(event));
    sut.onStatus((status) => statuses.push(status));
    return sut;
  };

  beforeEach(() => {
    clock = new FakeClock();
    gateway = new FakeGateway();
    seen = [];
    statuses = [];
  });

  it('should hand every event type to onAny, with its data parsed and its position', async () => {
    connect();
    await clock.advance(0);
    gateway.last
      .open()
      .event('order.created', 'orders/2/7', { n: 1 })
      .event('something.new', 'orders/2/8', 'text')
      .send('event: weird\nid: orders/2/9;c\ndata: not json\n\n');
    await clock.advance(0);

    expect(seen).toEqual([
      { type: 'order.created', data: { n: 1 }, id: 'orders/2/7;c', topic: 'orders', partition: 2, offset: 7 },
      { type: 'something.new', data: 'text', id: 'orders/2/8;c', topic: 'orders', partition: 2, offset: 8 },
      { type: 'weird', data: 'not json', id: 'orders/2/9;c', topic: 'orders', partition: 2, offset: 9 },
    ]);
  });

  it('should hand an event to the handlers of its type only', async () => {
    const sut = connect();
    const created: Array<{ n: number }> = [];
    const other = jest.fn();
    sut.on('order.created', (data) => created.push(data));
    sut.on('order.cancelled' as 'order.created', other);
    await clock.advance(0);
    gateway.last.open().event('order.created', 'orders/0/1', { n: 1 });
    await clock.advance(0);

    expect(created).toEqual([{ n: 1 }]);
    expect(other).not.toHaveBeenCalled();
  });

  it('should stop calling a handler once unsubscribed', async () => {
    const sut = connect();
    const handler = jest.fn();
    sut.on('order.created', handler)();
    await clock.advance(0);
    gateway.last.open().event('order.created', 'orders/0/1', { n: 1 });
    await clock.advance(0);

    expect(handler).not.toHaveBeenCalled();
  });

  it('should hand over nothing twice when a new stream replays what the old one gave (token rotation)', async () => {
    connect({ getToken: () => tokenExpiringAt(clock.time + 8000) });
    await clock.advance(0);
    const first = gateway.last.open().event('order.created', 'orders/0/1', { n: 1 }, 'c1');
    await clock.advance(6000);
    first.event('order.created', 'orders/0/2', { n: 2 }, 'c2');
    await clock.advance(0);
    gateway.last
      .open()
      .event('order.created', 'orders/0/2', { n: 2 }, 'c2')
      .event('order.created', 'orders/0/3', { n: 3 }, 'c3');
    await clock.advance(0);

    expect(seen.map((event) => event.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('should keep a partition’s order across partitions interleaved', async () => {
    connect();
    await clock.advance(0);
    gateway.last
      .open()
      .event('order.created', 'orders/1/50', { n: 1 })
      .event('order.created', 'orders/0/3', { n: 2 })
      .event('order.created', 'orders/1/51', { n: 3 });
    await clock.advance(0);

    expect(seen.map((event) => event.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('should hand over only the topics this tab asked for', async () => {
    connect({ topics: ['orders'] });
    await clock.advance(0);
    gateway.last.open().event('chat.message', 'chat/0/1', {}).event('order.created', 'orders/0/1', { n: 1 });
    await clock.advance(0);

    expect(seen.map((event) => event.topic)).toEqual(['orders']);
  });

  it('should call onReset for a reset, report it as a status, and accept lower offsets after it', async () => {
    const sut = connect();
    const resets = jest.fn();
    sut.onReset(resets);
    await clock.advance(0);
    gateway.last
      .open()
      .event('order.created', 'orders/0/9', { n: 1 })
      .send('event: reset\nid: orders=AQI\ndata: {"reason":"log-changed","message":"refetch"}\n\n')
      .event('order.created', 'orders/0/0', { n: 2 });
    await clock.advance(0);

    expect(resets).toHaveBeenCalledWith({ reason: 'log-changed', message: 'refetch' });
    expect(statuses.map((status) => status.status)).toEqual(['connecting', 'live', 'reset', 'live']);
    expect(statuses[2]?.reset).toEqual({ reason: 'log-changed', message: 'refetch' });
    expect(seen.map((event) => event.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('should go on with the other handlers when one throws, and report the error', async () => {
    const reported: unknown[] = [];
    const original = globalThis.reportError;
    globalThis.reportError = (error: unknown) => reported.push(error);
    try {
      const sut = connect();
      sut.on('order.created', () => {
        throw new Error('app bug');
      });
      await clock.advance(0);
      gateway.last.open().event('order.created', 'orders/0/1', { n: 1 });
      await clock.advance(0);

      expect(seen).toHaveLength(1);
      expect(reported).toEqual([new Error('app bug')]);
    } finally {
      globalThis.reportError = original;
    }
  });

  it('should report its status with one tab, itself the leader', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.open();
    await clock.advance(0);

    expect(statuses).toEqual([
      { status: 'connecting', tabs: 1, leader: true },
      { status: 'live', tabs: 1, leader: true },
    ]);
    expect(sut.status.status).toBe('live');
  });

  it('should keep the last id for the application to save', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.open().event('order.created', 'orders/0/1', { n: 1 }, 'c1');
    await clock.advance(0);

    expect(sut.lastEventId).toBe('orders/0/1;c1');
  });

  it('should close: status closed, connection aborted, no more events', async () => {
    const sut = connect();
    await clock.advance(0);
    const request = gateway.last.open();
    await clock.advance(0);
    sut.close();
    request.event('order.created', 'orders/0/1', { n: 1 });
    await clock.advance(60_000);

    expect(statuses.at(-1)?.status).toBe('closed');
    expect(request.aborted).toBe(true);
    expect(seen).toEqual([]);
    expect(gateway.requests).toHaveLength(1);
  });

  it('should close for good, with the error, when the gateway refuses for good', async () => {
    connect();
    await clock.advance(0);
    gateway.last.refuse(403, 'Topic not allowed');
    await clock.advance(60_000);

    expect(statuses.at(-1)).toMatchObject({ status: 'closed', error: { code: 'forbidden', status: 403 } });
    expect(gateway.requests).toHaveLength(1);
  });

  it('should not start when closed before it started', async () => {
    connect().close();
    await clock.advance(0);

    expect(gateway.requests).toEqual([]);
  });
});
