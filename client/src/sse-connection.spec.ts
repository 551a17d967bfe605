import { FakeClock } from './testing/fake-clock.js';
import { FakeGateway } from './testing/fake-gateway.js';
import { SseConnection, type ConnectionRequest, type SseBlock } from './sse-connection.js';

describe(SseConnection.name, () => {
  let clock: FakeClock;
  let gateway: FakeGateway;
  let blocks: SseBlock[];
  let opened: Array<number | undefined>;
  let retries: number[];

  const REQUEST: ConnectionRequest = {
    url: 'https://gw.example/events?topics=orders',
    token: 'tok',
    lastEventId: 'orders/0/4;c',
    credentials: 'same-origin',
    livenessMs: 30_000,
  };

  const connect = (request: Partial<ConnectionRequest> = {}) =>
    new SseConnection(
      { ...REQUEST, ...request },
      {
        opened: (heartbeatMs) => opened.push(heartbeatMs),
        block: (block) => blocks.push(block),
        retry: (ms) => retries.push(ms),
      },
      clock.environment(gateway.fetch),
    );

  beforeEach(() => {
    clock = new FakeClock();
    gateway = new FakeGateway();
    blocks = [];
    opened = [];
    retries = [];
  });

  it('should send the token and the last id as headers', async () => {
    connect();
    await clock.advance(0);

    expect(gateway.last.url).toBe(REQUEST.url);
    expect(gateway.last.headers).toEqual({
      accept: 'text/event-stream',
      authorization: 'Bearer tok',
      'last-event-id': 'orders/0/4;c',
    });
  });

  it('should send neither without a token or a last id (cookie authentication)', async () => {
    connect({ token: undefined, lastEventId: undefined, credentials: 'include' });
    await clock.advance(0);

    expect(gateway.last.headers).toEqual({ accept: 'text/event-stream' });
    expect(gateway.last.credentials).toBe('include');
  });

  it('should pass on every block, of every type, split across chunks as it may be', async () => {
    connect();
    await clock.advance(0);
    gateway.last.open({ heartbeatMs: 1000 });
    gateway.last.send('event: order.created\nid: orders/0/5;c2\ndata: {"n":');
    gateway.last.send('1}\n\n: heartbeat\n\nevent: zzz.unknown\ndata: "x"\n\ndata: plain\n\n');
    await clock.advance(0);

    expect(opened).toEqual([1000]);
    expect(retries).toEqual([1000]);
    expect(blocks).toEqual([
      { type: 'checkpoint', data: '', id: 't=AQI' },
      { type: 'order.created', data: '{"n":1}', id: 'orders/0/5;c2' },
      { type: 'zzz.unknown', data: '"x"', id: undefined },
      { type: 'message', data: 'plain', id: undefined },
    ]);
  });

  it('should end as ended when the gateway ends the stream', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.open();
    gateway.last.end();

    await expect(sut.ended).resolves.toEqual({ kind: 'ended' });
  });

  it('should surface a refusal with its status, message and Retry-After', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.refuse(429, 'Too many open streams for this user', { 'retry-after': '7' });

    await expect(sut.ended).resolves.toEqual({
      kind: 'refused',
      status: 429,
      message: 'Too many open streams for this user',
      retryAfterMs: 7000,
    });
    expect(opened).toEqual([]);
  });

  it('should end as lost on a network error', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.networkError();

    await expect(sut.ended).resolves.toMatchObject({ kind: 'lost', error: expect.any(TypeError) });
  });

  it('should end as lost on an answer that is not an event stream (a proxy’s page)', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.page('<html>sign in</html>');

    await expect(sut.ended).resolves.toMatchObject({ kind: 'lost', error: expect.any(Error) });
    expect(opened).toEqual([]);
  });

  it('should give up a stream that stays silent for twice the heartbeat interval', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.open({ heartbeatMs: 1000 });
    await clock.advance(1900);
    gateway.last.send(': \n\n');
    await clock.advance(1900);

    expect(gateway.last.aborted).toBe(false);
    await clock.advance(200);
    await expect(sut.ended).resolves.toEqual({ kind: 'silent' });
    expect(gateway.last.aborted).toBe(true);
  });

  it('should give up a request that gets no answer within the liveness timeout', async () => {
    const sut = connect({ livenessMs: 5000 });
    await clock.advance(5000);

    await expect(sut.ended).resolves.toEqual({ kind: 'silent' });
  });

  it('should end as closed, and abort the request, when closed', async () => {
    const sut = connect();
    await clock.advance(0);
    gateway.last.open();
    await clock.advance(0);
    sut.close();

    await expect(sut.ended).resolves.toEqual({ kind: 'closed' });
    expect(gateway.last.aborted).toBe(true);
  });
});
