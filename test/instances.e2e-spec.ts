import { randomUUID } from 'node:crypto';
import { EventStreamService } from '../src/stream/event-stream.service.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { RawStream, TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
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
      /^event: checkpoint\nid: notifications=[\w-]+\nretry: 200\n: shutdown\ndata: ?$/,
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

    // What Nest runs first on SIGTERM, before it closes the server.
    instance.app.get(EventStreamService).beforeApplicationShutdown();

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
    expect(await refused.json()).toMatchObject({ statusCode: 503 });
  });
});
