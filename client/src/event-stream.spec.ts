import { EventStream, type StreamOptions, type StreamState } from './event-stream.js';
import type { SseBlock } from './sse-connection.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeGateway, tokenExpiringAt } from './testing/fake-gateway.js';
import type { TokenRequest } from './token.js';

describe(EventStream.name, () => {
  let clock: FakeClock;
  let gateway: FakeGateway;
  let states: StreamState[];
  let blocks: Array<{ block: SseBlock; lastId: string | undefined }>;
  let tokenRequests: TokenRequest[];
  let errors: Array<{ code: string; topics?: readonly string[] | undefined }>;

  const OPTIONS: StreamOptions = {
    url: 'https://gw.example/events',
    topics: ['orders'],
    getToken: undefined,
    user: undefined,
    credentials: 'same-origin',
    lastEventId: undefined,
    retryMs: 1000,
    maxRetryMs: 30_000,
    heartbeatMs: 15_000,
  };

  const start = (options: Partial<StreamOptions> = {}) => {
    const sut = new EventStream(
      { ...OPTIONS, ...options },
      {
        block: (block, lastId) => blocks.push({ block, lastId }),
        position: () => undefined,
        state: (state) => states.push(state),
        error: (error, topicChange) => errors.push({ code: error.code, topics: topicChange?.topics }),
      },
      clock.environment(gateway.fetch, () => 0.5),
    );
    sut.start();
    return sut;
  };

  /** Tokens that live `lifeMs` from when they are asked for. */
  const tokensLiving =
    (lifeMs: number) =>
    (request: TokenRequest): string => {
      tokenRequests.push(request);
      return tokenExpiringAt(clock.time + lifeMs);
    };

  const statuses = () => states.map((state) => state.status);

  beforeEach(() => {
    clock = new FakeClock();
    gateway = new FakeGateway();
    states = [];
    blocks = [];
    tokenRequests = [];
    errors = [];
  });

  it('should be connecting, then live once the stream opens, with the topics in the URL', async () => {
    start({ topics: ['orders', 'chat'] });
    await clock.advance(0);
    gateway.last.open();
    await clock.advance(0);

    expect(statuses()).toEqual(['connecting', 'live']);
    expect(gateway.last.url).toBe('https://gw.example/events?topics=chat,orders');
  });

  it('should move the last id only on blocks that carry one, and resume from it after the gateway ends the stream', async () => {
    start({ lastEventId: 'orders/0/0;c0' });
    await clock.advance(0);
    expect(gateway.last.headers['last-event-id']).toBe('orders/0/0;c0');
    gateway.last.open().event('order.created', 'orders/0/1', { n: 1 }, 'c1').send('event: note\ndata: 1\n\n');
    await clock.advance(0);
    gateway.last.end();
    await clock.advance(0);

    expect(blocks.map(({ lastId }) => lastId)).toEqual(['orders/0/1;c1', 'orders/0/1;c1']);
    expect(states.at(-1)).toEqual({
      status: 'reconnecting',
      inMs: 500,
      cause: 'the gateway ended the stream',
    });
    await clock.advance(500);
    expect(gateway.requests).toHaveLength(2);
    expect(gateway.last.headers['last-event-id']).toBe('orders/0/1;c1');
  });

  it('should pass checkpoints on as positions, not as blocks', async () => {
    const positions: string[] = [];
    const sut = new EventStream(
      OPTIONS,
      {
        block: (block) => blocks.push({ block, lastId: undefined }),
        position: (id) => positions.push(id),
        state: () => undefined,
        error: () => undefined,
      },
      clock.environment(gateway.fetch),
    );
    sut.start();
    await clock.advance(0);
    gateway.last.open().send('event: checkpoint\nid: orders=AQY\ndata: \n\n');
    await clock.advance(0);

    expect(positions).toEqual(['t=AQI', 'orders=AQY']);
    expect(blocks).toEqual([]);
    expect(sut.lastEventId).toBe('orders=AQY');
  });

  it('should back off with full jitter from the retry it was given, doubling while attempts fail', async () => {
    start();
    for (let attempt = 0; attempt < 4; attempt++) {
      await clock.advance(0);
      gateway.last.networkError();
      await clock.advance(0);
      const state = states.at(-1);
      await clock.advance(state?.status === 'reconnecting' ? state.inMs : 0);
    }

    expect(states.filter((state) => state.status === 'reconnecting').map((state) => state.inMs)).toEqual([
      500, 1000, 2000, 4000,
    ]);
  });

  it('should take the server’s retry as the base, and start again from it once a stream opens', async () => {
    start();
    await clock.advance(0);
    gateway.last.networkError();
    await clock.advance(500);
    gateway.last.open({ first: 'retry: 200\n\n' });
    await clock.advance(0);
    gateway.last.end();
    await clock.advance(0);

    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', inMs: 100 });
  });

  it.each([429, 503])('should wait as long as Retry-After says after a %i', async (status) => {
    start();
    await clock.advance(0);
    gateway.last.refuse(status, 'busy', { 'retry-after': '3' });
    await clock.advance(2999);

    expect(states.at(-1)).toMatchObject({
      status: 'reconnecting',
      inMs: 3000,
      cause: `HTTP ${status}: busy`,
    });
    expect(gateway.requests).toHaveLength(1);
    await clock.advance(1);
    expect(gateway.requests).toHaveLength(2);
  });

  it('should ask for a fresh token once after a 401, then give up with an error', async () => {
    start({ getToken: tokensLiving(60_000) });
    await clock.advance(0);
    gateway.last.refuse(401, 'Token expired');
    await clock.advance(0);
    gateway.last.refuse(401, 'Token expired');
    await clock.advance(60_000);

    expect(tokenRequests).toEqual([{ refresh: false }, { refresh: true }]);
    expect(gateway.requests).toHaveLength(2);
    expect(states.at(-1)).toMatchObject({
      status: 'closed',
      error: { code: 'unauthorized', status: 401, message: 'Token expired' },
    });
  });

  it('should go live with the refreshed token when it is accepted', async () => {
    start({ getToken: tokensLiving(60_000) });
    await clock.advance(0);
    gateway.last.refuse(401, 'Token expired');
    await clock.advance(0);
    gateway.last.open();
    await clock.advance(0);

    expect(statuses()).toEqual(['connecting', 'live']);
  });

  it('should give up at once on a 401 without a token (cookies cannot be refreshed here)', async () => {
    start();
    await clock.advance(0);
    gateway.last.refuse(401, 'No credentials');
    await clock.advance(60_000);

    expect(gateway.requests).toHaveLength(1);
    expect(states.at(-1)).toMatchObject({ status: 'closed', error: { code: 'unauthorized' } });
  });

  it.each([
    [403, 'forbidden'],
    [400, 'bad-request'],
  ])('should give up at once on a %i', async (status, code) => {
    start({ getToken: tokensLiving(60_000) });
    await clock.advance(0);
    gateway.last.refuse(status, 'no');
    await clock.advance(60_000);

    expect(gateway.requests).toHaveLength(1);
    expect(tokenRequests).toHaveLength(1);
    expect(states.at(-1)).toMatchObject({ status: 'closed', error: { code, status } });
  });

  describe('token rotation', () => {
    it('should open a stream with a fresh token from the last id before the token expires, then close the old one', async () => {
      start({ getToken: tokensLiving(8000) });
      await clock.advance(0);
      const first = gateway.last.open().event('order.created', 'orders/0/1', { n: 1 }, 'c1');
      await clock.advance(5999);
      expect(gateway.requests).toHaveLength(1);

      await clock.advance(1);
      const second = gateway.last;
      expect(gateway.requests).toHaveLength(2);
      expect(tokenRequests).toEqual([{ refresh: false }, { refresh: true }]);
      expect(second.headers['last-event-id']).toBe('orders/0/1;c1');
      expect(second.headers.authorization).not.toBe(first.headers.authorization);
      expect(first.aborted).toBe(false);

      second.open();
      await clock.advance(0);
      expect(first.aborted).toBe(true);
      expect(statuses()).toEqual(['connecting', 'live']);
    });

    it('should pass on the new stream’s blocks and no longer the old one’s', async () => {
      start({ getToken: tokensLiving(8000) });
      await clock.advance(0);
      const first = gateway.last.open();
      await clock.advance(6000);
      const second = gateway.last.open();
      await clock.advance(0);
      first.event('order.created', 'orders/0/1', { n: 1 }, 'old');
      second.event('order.created', 'orders/0/1', { n: 1 }, 'new');
      await clock.advance(0);

      expect(blocks.map(({ lastId }) => lastId)).toEqual(['orders/0/1;new']);
    });

    it('should rotate again with every token', async () => {
      start({ getToken: tokensLiving(8000) });
      for (let rotation = 0; rotation < 3; rotation++) {
        await clock.advance(0);
        gateway.last.open();
        await clock.advance(6000);
      }
      gateway.last.open();
      await clock.advance(0);

      expect(gateway.requests).toHaveLength(4);
      expect(gateway.open).toEqual([gateway.last]);
    });

    it('should keep the current stream when the new one is refused for now, and try again', async () => {
      start({ getToken: tokensLiving(8000) });
      await clock.advance(0);
      const first = gateway.last.open();
      await clock.advance(6000);
      gateway.last.refuse(429, 'slow down', { 'retry-after': '1' });
      await clock.advance(0);

      expect(first.aborted).toBe(false);
      expect(statuses()).toEqual(['connecting', 'live']);
      await clock.advance(1000);
      expect(gateway.requests).toHaveLength(3);
      gateway.last.open();
      await clock.advance(0);
      expect(first.aborted).toBe(true);
    });

    it('should let the new stream take over when the old one ends first', async () => {
      start({ getToken: tokensLiving(8000) });
      await clock.advance(0);
      const first = gateway.last.open();
      await clock.advance(6000);
      first.end();
      await clock.advance(0);
      gateway.last.open().event('order.created', 'orders/0/1', { n: 1 }, 'new');
      await clock.advance(0);

      expect(gateway.requests).toHaveLength(2);
      expect(blocks.map(({ lastId }) => lastId)).toEqual(['orders/0/1;new']);
    });

    it('should not rotate when no fresher token is to be had', async () => {
      const token = tokenExpiringAt(clock.time + 8000);
      start({ getToken: () => token });
      await clock.advance(0);
      gateway.last.open();
      await clock.advance(7000);

      expect(gateway.requests).toHaveLength(1);
    });
  });

  it('should move to new topics through a new stream from the last id, then close the old one', async () => {
    const sut = start();
    await clock.advance(0);
    const first = gateway.last.open().event('order.created', 'orders/0/1', { n: 1 }, 'c1');
    await clock.advance(0);
    sut.setTopics(['orders', 'chat']);
    await clock.advance(0);

    expect(gateway.last.url).toBe('https://gw.example/events?topics=chat,orders');
    expect(gateway.last.headers['last-event-id']).toBe('orders/0/1;c1');
    gateway.last.open();
    await clock.advance(0);
    expect(first.aborted).toBe(true);
  });

  it('should switch once open when the topics changed while it was connecting', async () => {
    const sut = start();
    await clock.advance(0);
    sut.setTopics(['chat']);
    gateway.last.open();
    await clock.advance(0);

    expect(gateway.requests.map((request) => request.url)).toEqual([
      'https://gw.example/events?topics=orders',
      'https://gw.example/events?topics=chat',
    ]);
  });

  it('should close its connection and make no more on stop', async () => {
    const sut = start();
    await clock.advance(0);
    gateway.last.open();
    await clock.advance(0);
    sut.stop();
    await clock.advance(60_000);

    expect(gateway.last.aborted).toBe(true);
    expect(gateway.requests).toHaveLength(1);
    expect(statuses()).toEqual(['connecting', 'live', 'closed']);
  });
});

describe(`${EventStream.name}: a replacement refused, races, clocks and limits`, () => {
  let clock: FakeClock;
  let gateway: FakeGateway;
  let states: StreamState[];
  let errors: Array<{ code: string; topics?: readonly string[] | undefined }>;

  const start = (options: Partial<StreamOptions> = {}) => {
    const sut = new EventStream(
      {
        url: 'https://gw.example/events',
        topics: ['orders'],
        getToken: undefined,
        user: undefined,
        credentials: 'same-origin',
        lastEventId: undefined,
        retryMs: 1000,
        maxRetryMs: 30_000,
        // No heartbeats in these streams: silence must not end them.
        heartbeatMs: 3_600_000,
        ...options,
      },
      {
        block: () => undefined,
        position: () => undefined,
        state: (state) => states.push(state),
        error: (error, topicChange) => errors.push({ code: error.code, topics: topicChange?.topics }),
      },
      clock.environment(gateway.fetch, () => 0.5),
    );
    sut.start();
    return sut;
  };
  const statuses = () => states.map((state) => state.status);

  beforeEach(() => {
    clock = new FakeClock();
    gateway = new FakeGateway();
    states = [];
    errors = [];
  });

  it.each([
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [400, 'bad-request'],
  ])(
    'should report a rotation refused with a %i and keep the stream, then rotate again later',
    async (status, code) => {
      start({ getToken: () => tokenExpiringAt(clock.time + 60_000) });
      await clock.advance(0);
      const first = gateway.last.open();
      await clock.advance(45_000);
      gateway.last.refuse(status, 'Token not yet valid');
      await clock.advance(0);

      expect(first.aborted).toBe(false);
      expect(statuses()).toEqual(['connecting', 'live']);
      expect(errors).toEqual([{ code, topics: undefined }]);
      await clock.advance(30_000);
      expect(gateway.requests.length).toBeGreaterThan(2);
    },
  );

  it('should report a topic change refused with a 403, keep the stream and its topics, and not retry it', async () => {
    const sut = start();
    await clock.advance(0);
    const first = gateway.last.open();
    await clock.advance(0);
    sut.setTopics(['orders', 'secret']);
    await clock.advance(0);
    gateway.last.refuse(403, 'Not allowed to read topic(s): secret');
    await clock.advance(60_000);

    expect(first.aborted).toBe(false);
    expect(statuses()).toEqual(['connecting', 'live']);
    expect(errors).toEqual([{ code: 'forbidden', topics: ['orders', 'secret'] }]);
    expect(sut.streaming).toEqual(['orders']);
    expect(gateway.requests).toHaveLength(2);
    first.end();
    await clock.advance(1000);
    expect(gateway.last.url).toBe('https://gw.example/events?topics=orders');
  });

  it('should leave one connection open when the topics change twice while a token is awaited', async () => {
    let slowToken: ((token: string) => void) | undefined;
    let calls = 0;
    const sut = start({
      getToken: () =>
        // The second call (the first topic change) waits; the others answer at once.
        ++calls === 2
          ? new Promise<string>((resolve) => (slowToken = resolve))
          : tokenExpiringAt(clock.time + 3_600_000),
    });
    await clock.advance(0);
    gateway.last.open();
    await clock.advance(0);
    sut.setTopics(['orders', 'chat']);
    sut.setTopics(['orders', 'chat', 'news']);
    await clock.advance(0);
    slowToken!(tokenExpiringAt(clock.time + 3_600_000));
    await clock.advance(0);
    gateway.open.slice(1).forEach((request) => request.open());
    await clock.advance(0);

    expect(gateway.open.map((request) => request.url)).toEqual([
      'https://gw.example/events?topics=chat,news,orders',
    ]);
  });

  it('should close a replacement that opens after another replacement took its place', async () => {
    const sut = start();
    await clock.advance(0);
    gateway.last.open();
    await clock.advance(0);
    sut.setTopics(['orders', 'chat']);
    await clock.advance(0);
    const replaced = gateway.last;
    sut.setTopics(['orders', 'news']);
    await clock.advance(0);
    replaced.open();
    gateway.last.open();
    await clock.advance(0);

    expect(gateway.open).toEqual([gateway.last]);
  });

  it('should time the rotation by the gateway’s clock, not a browser clock an hour ahead', async () => {
    const gatewayTime = clock.time;
    clock.time += 3_600_000;
    let issued = 0;
    start({ getToken: () => tokenExpiringAt(gatewayTime + 120_000 + 1000 * issued++) });
    await clock.advance(0);
    gateway.last.open({ date: gatewayTime });
    await clock.advance(60_000);

    expect(gateway.requests).toHaveLength(1);
    await clock.advance(30_000);
    expect(gateway.requests).toHaveLength(2);
  });

  it('should not loop on refresh and reconnect when no Date header is readable and the clock is ahead', async () => {
    clock.time += 3_600_000;
    let issued = 0;
    start({ getToken: () => tokenExpiringAt(1_000_000 + 60_000 + 1000 * issued++) });
    for (let i = 0; i < 20; i++) {
      await clock.advance(0);
      gateway.open.at(-1)?.open();
      await clock.advance(100);
    }

    expect(gateway.requests.length).toBeLessThanOrEqual(2);
  });

  it.each([
    ['86400', 30_000],
    ['99999999999', 30_000],
  ])('should wait at most maxRetryMs whatever Retry-After says (%s)', async (retryAfter, inMs) => {
    start();
    await clock.advance(0);
    gateway.last.refuse(503, 'busy', { 'retry-after': retryAfter });
    await clock.advance(0);

    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', inMs });
    expect(clock.pendingDelays().every((delay) => delay <= 30_000)).toBe(true);
    await clock.advance(inMs);
    expect(gateway.requests).toHaveLength(2);
  });

  it('should reconnect at once when woken (the network is back, the tab is shown), not after its delay', async () => {
    const sut = start();
    await clock.advance(0);
    gateway.last.networkError();
    await clock.advance(0);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', inMs: 500 });

    sut.wake();
    await clock.advance(0);
    expect(gateway.requests).toHaveLength(2);
    await clock.advance(500);
    expect(gateway.requests).toHaveLength(2);
  });

  it('should let its connection go for the back-forward cache and resume from the last id', async () => {
    const sut = start();
    await clock.advance(0);
    const first = gateway.last.open().event('order.created', 'orders/0/1', { n: 1 }, 'c1');
    await clock.advance(0);
    sut.pause();
    await clock.advance(60_000);
    expect(first.aborted).toBe(true);
    expect(gateway.requests).toHaveLength(1);

    sut.resume();
    await clock.advance(0);
    expect(gateway.last.headers['last-event-id']).toBe('orders/0/1;c1');
    gateway.last.open();
    await clock.advance(0);
    expect(statuses()).toEqual(['connecting', 'live', 'connecting', 'live']);
  });

  it('should stop, signed out, when getToken returns null', async () => {
    start({ getToken: () => null });
    await clock.advance(60_000);

    expect(statuses()).toEqual(['connecting', 'signed-out']);
    expect(gateway.requests).toEqual([]);
  });

  it('should stop, signed out, when getToken returns null for a rotation', async () => {
    let signedIn = true;
    start({ getToken: () => (signedIn ? tokenExpiringAt(clock.time + 60_000) : null) });
    await clock.advance(0);
    const first = gateway.last.open();
    signedIn = false;
    await clock.advance(60_000);

    expect(statuses()).toEqual(['connecting', 'live', 'signed-out']);
    expect(first.aborted).toBe(true);
  });

  it('should sign out rather than stream another user’s events when getToken turns to another user', async () => {
    let sub = 'alice';
    start({ user: ' alice', getToken: () => tokenExpiringAt(clock.time + 60_000, sub) });
    await clock.advance(0);
    gateway.last.open();
    sub = 'bob';
    await clock.advance(60_000);

    expect(statuses()).toEqual(['connecting', 'live', 'signed-out']);
    expect(gateway.requests).toHaveLength(1);
  });

  it('should report a getToken that throws, and retry it with backoff', async () => {
    let calls = 0;
    start({
      getToken: () => {
        if (calls++ < 2) throw new Error('identity provider down');
        return tokenExpiringAt(clock.time + 60_000);
      },
    });
    await clock.advance(0);
    await clock.advance(5000);
    gateway.last.open();
    await clock.advance(0);

    expect(errors).toEqual([
      { code: 'token-failed', topics: undefined },
      { code: 'token-failed', topics: undefined },
    ]);
    expect(statuses()).toEqual(['connecting', 'reconnecting', 'reconnecting', 'live']);
  });
});
