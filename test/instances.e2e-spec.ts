import { randomUUID } from 'node:crypto';
import { EventStreamService } from '../src/stream/event-stream.service.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { startProductionBuild, type ProductionBuild } from './support/production-build.js';
import { RawStream, TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

describe('Several instances, restarts and shutdown (e2e)', () => {
  let producer: TestProducer;
  const gateways: TestGateway[] = [];
  const streams: Array<TestStream | RawStream> = [];
  const run = randomUUID().slice(0, 8);
  const user = (name: string) => `${name}-${run}`;
  const numbers = (stream: TestStream) => stream.events.map((event) => (event.data as { n: number }).n);

  beforeAll(async () => {
    producer = await createTestProducer();
  });

  afterEach(async () => {
    streams.splice(0).forEach((stream) => stream.close());
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  });

  afterAll(() => producer.close());

  async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
    const started = await startTestGateway(env);
    gateways.push(started);
    return started;
  }

  async function open(on: TestGateway, sub: string, lastEventId?: string): Promise<TestStream> {
    const stream = new TestStream(`${on.url}/events?topics=notifications`, {
      headers: { authorization: `Bearer ${await signToken({ sub })}` },
      ...(lastEventId === undefined ? {} : { lastEventId }),
    });
    streams.push(stream);
    await stream.waitForOpen();
    return stream;
  }

  const send = (sub: string, from: number, to: number) =>
    producer.send(
      'notifications',
      Array.from({ length: to - from + 1 }, (_, i) => ({
        type: 'notification',
        data: { n: from + i },
        userId: sub,
      })),
      1,
    );

  it('should resume on a second instance, started after the events it replays were produced', async () => {
    const sub = user('mover');
    const first = await gateway();
    const before = await open(first, sub);
    await send(sub, 1, 5);
    await waitFor(() => numbers(before).length === 5, 'events 1-5 on instance 1');
    before.close();
    await send(sub, 6, 10);

    const second = await gateway();
    await waitFor(
      async () => (await fetch(`${second.url}/health/ready`)).status === 200,
      'instance 2 to be ready',
    );
    const after = await open(second, sub, before.lastId);
    await send(sub, 11, 12);

    await waitFor(() => numbers(after).includes(12), 'event 12 on instance 2');
    expect(numbers(before)).toEqual([1, 2, 3, 4, 5]);
    expect(numbers(after)).toEqual([6, 7, 8, 9, 10, 11, 12]);
  });

  it('should end streams with a resume point on shutdown and lose nothing across a restart', async () => {
    const sub = user('restart');
    const first = await gateway();
    const token = await signToken({ sub });
    const raw = await RawStream.open(`${first.url}/events?topics=notifications`, {
      authorization: `Bearer ${token}`,
    });
    streams.push(raw);
    await send(sub, 1, 3);
    await raw.waitForText(/"n":3/, 'event 3');

    await first.close();
    gateways.splice(gateways.indexOf(first), 1);
    await raw.waitForEnd();
    const lastBlock = raw.text.trimEnd().split('\n\n').at(-1)!;
    expect(lastBlock).toMatch(
      /^event: checkpoint\nid: (?:@[\w.-]+|notifications=[\w-]+)\nretry: 200\n: shutdown\ndata: ?$/,
    );
    const lastId = /^id: (.*)$/m.exec(lastBlock)![1]!;

    await send(sub, 4, 6);
    const second = await gateway();
    const resumed = await open(second, sub, lastId);
    await waitFor(() => numbers(resumed).includes(6), 'event 6 after the restart');
    expect(numbers(resumed)).toEqual([4, 5, 6]);
  });

  it('should report ready once warm, and refuse new streams with a JSON 503 once shutting down', async () => {
    const instance = await gateway();
    await waitFor(async () => (await fetch(`${instance.url}/health/ready`)).status === 200, 'readiness');
    expect(await (await fetch(`${instance.url}/health/ready`)).json()).toMatchObject({
      status: 'ok',
      info: { kafka: { status: 'up' }, replayBuffer: { status: 'up' }, streams: { status: 'up' } },
    });

    // What SIGTERM starts, before the server closes.
    instance.app.get(EventStreamService).drain();

    const ready = await fetch(`${instance.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'error',
      error: { streams: { status: 'down', reasons: ['shutting down'] } },
    });
    const refused = await fetch(`${instance.url}/events`, {
      headers: { authorization: `Bearer ${await signToken()}` },
    });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ statusCode: 503 });
  });

  describe('a rolling deploy of the production build', () => {
    const DELAY_MS = 3000;
    const builds: ProductionBuild[] = [];

    afterEach(async () => {
      await Promise.all(builds.splice(0).map((build) => build.stop()));
    });

    async function start(): Promise<{ build: ProductionBuild; url: string }> {
      const build = startProductionBuild({
        KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
        KAFKA_TOPICS: 'notifications',
        JWT_SECRET: TEST_JWT_SECRET,
        JWT_AUDIENCE: TEST_AUDIENCE,
        JWT_ISSUER: TEST_ISSUER,
        HOST: '127.0.0.1',
        PORT: '0',
        SSE_RETRY_MS: '200',
        SHUTDOWN_DELAY_MS: String(DELAY_MS),
      });
      builds.push(build);
      const url = await build.listening();
      await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 'readiness', 30_000);
      return { build, url };
    }

    /** One attempt to open a stream: its status and Retry-After, or the connection error it met. */
    async function attempt(url: string, token: string): Promise<string> {
      try {
        const response = await fetch(`${url}/events?topics=notifications`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = await response.text();
        return `${response.status} retry-after=${response.headers.get('retry-after')} ${body.startsWith('{') ? 'json' : 'other'}`;
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        return `connection error ${cause?.code ?? String(err)}`;
      }
    }

    it('should drain on SIGTERM: readiness 503 at once, 503 with Retry-After to new streams for SHUTDOWN_DELAY_MS while open streams still get their events, then open streams ended with a resume point, then exit; nothing lost on the next instance', async () => {
      const sub = user('rolling');
      const token = await signToken({ sub });
      const old = await start();
      const raw = await RawStream.open(`${old.url}/events?topics=notifications`, {
        authorization: `Bearer ${token}`,
      });
      streams.push(raw);
      await send(sub, 1, 3);
      await raw.waitForText(/"n":3/, 'event 3');

      const signalledAt = Date.now();
      old.build.signal('SIGTERM');
      await waitFor(
        async () => (await fetch(`${old.url}/health/ready`)).status === 503,
        'readiness to fail',
        1000,
      );
      // Load balancers take the instance out meanwhile; its open streams are served until then.
      await send(sub, 4, 4);
      await raw.waitForText(/"n":4/, 'event 4 during the drain');

      const answers: string[] = [];
      while (Date.now() - signalledAt < DELAY_MS - 500) answers.push(await attempt(old.url, token));
      expect(answers.length).toBeGreaterThan(10);
      expect(new Set(answers)).toEqual(new Set(['503 retry-after=1 json']));
      expect(raw.ended).toBe(false);

      await raw.waitForEnd(DELAY_MS + 5000);
      expect(raw.endedAt! - signalledAt).toBeGreaterThanOrEqual(DELAY_MS);
      const lastBlock = raw.text.trimEnd().split('\n\n').at(-1)!;
      expect(lastBlock).toMatch(
        /^event: checkpoint\nid: (?:@[\w.-]+|notifications=[\w-]+)\nretry: 200\n: shutdown\ndata: ?$/,
      );
      const lastId = /^id: (.*)$/m.exec(lastBlock)![1]!;

      const exit = await old.build.exited;
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DELAY_MS);
      expect(exit.signal).toBe('SIGTERM');
      expect(old.build.output()).not.toMatch(/Shutdown took longer|"level":50/);

      await send(sub, 5, 7);
      const next = await start();
      const resumed = new TestStream(`${next.url}/events?topics=notifications`, {
        headers: { authorization: `Bearer ${token}` },
        lastEventId: lastId,
      });
      streams.push(resumed);
      await waitFor(() => numbers(resumed).includes(7), 'event 7 on the next instance');
      expect(numbers(resumed)).toEqual([5, 6, 7]);
    }, 90_000);
  });
});
