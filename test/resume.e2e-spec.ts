import { randomUUID } from 'node:crypto';
import { namedPosition, resumeFrom } from '../src/stream/resume-plan.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { TEST_TOPICS } from './support/test-topics.mjs';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

interface Sent {
  readonly n: number;
  readonly topic: string;
  readonly partition: number;
}

/** A deterministic pseudo-random sequence, so a failing run can be replayed with its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('Resumable streams (e2e)', () => {
  let gateway: TestGateway;
  let producer: TestProducer;
  const streams: TestStream[] = [];
  const run = randomUUID().slice(0, 8);
  const user = (name: string) => `${name}-${run}`;

  beforeAll(async () => {
    gateway = await startTestGateway();
    producer = await createTestProducer();
  });

  afterEach(() => streams.splice(0).forEach((stream) => stream.close()));

  afterAll(async () => {
    await producer.close();
    await gateway.close();
  });

  async function open(
    sub: string,
    options: { lastEventId?: string; query?: string } = {},
  ): Promise<TestStream> {
    const token = await signToken({ sub });
    const stream = new TestStream(`${gateway.url}/events${options.query ?? ''}`, {
      headers: { authorization: `Bearer ${token}` },
      ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
    });
    streams.push(stream);
    await stream.waitForOpen();
    return stream;
  }

  it('should give every client exactly what was addressed to it, in partition order, through cuts from both sides', async () => {
    const seed = Date.now();
    const next = random(seed);
    const users = ['u1', 'u2', 'u3', 'u4'].map(user);
    const expected = new Map<string, Sent[]>(users.map((id) => [id, []]));
    const clients = new Map<string, TestStream>();
    for (const id of users) clients.set(id, await open(id));
    const received = new Map<string, Sent[]>(users.map((id) => [id, []]));
    const seen = new Map<TestStream, number>();

    const collect = () => {
      for (const [id, stream] of clients) {
        const from = seen.get(stream) ?? 0;
        received.get(id)!.push(...stream.events.slice(from).map((event) => event.data as Sent));
        seen.set(stream, stream.events.length);
      }
    };

    let n = 0;
    let serverCuts = 0;
    for (let batch = 0; batch < 20; batch++) {
      const records = Array.from({ length: 20 }, () => {
        const topic = TEST_TOPICS[Math.floor(next() * TEST_TOPICS.length)]!;
        const partition = Math.floor(next() * 3);
        const roll = next();
        const to =
          roll < 0.1
            ? users
            : roll < 0.3
              ? users.filter(() => next() < 0.5)
              : [users[Math.floor(next() * users.length)]!];
        const addressing =
          roll < 0.1 ? { broadcast: true } : to.length === 0 ? { userIds: [users[0]!] } : { userIds: to };
        const sent: Sent = { n: n++, topic, partition };
        for (const id of 'broadcast' in addressing ? users : addressing.userIds) expected.get(id)!.push(sent);
        return {
          topic,
          partition,
          value: JSON.stringify({ type: 'notification', data: sent, ...addressing }),
        };
      });
      await producer.sendMixed(records);

      // A client-side cut: the client closes and resumes from the last id it saw.
      const victim = users[Math.floor(next() * users.length)]!;
      collect();
      const old = clients.get(victim)!;
      old.close();
      clients.set(victim, await open(victim, { lastEventId: old.lastId! }));
      // A server-side cut: every connection drops and EventSource reconnects by itself.
      if (next() < 0.4) serverCuts += gateway.cutConnections();
    }

    await waitFor(
      () => {
        collect();
        return users.every((id) => received.get(id)!.length >= expected.get(id)!.length);
      },
      `every client to receive its events (seed ${seed})`,
      30_000,
    );
    expect(serverCuts).toBeGreaterThan(0);
    for (const id of users) {
      const got = received.get(id)!;
      expect([id, got.length]).toEqual([id, expected.get(id)!.length]);
      expect(new Set(got.map((event) => event.n)).size).toBe(got.length);
      expect([...got].sort((a, b) => a.n - b.n)).toEqual(expected.get(id));
      for (const topic of TEST_TOPICS) {
        for (const partition of [0, 1, 2]) {
          const order = got
            .filter((event) => event.topic === topic && event.partition === partition)
            .map((event) => event.n);
          expect(order).toEqual([...order].sort((a, b) => a - b));
        }
      }
    }
  });

  it('should resume from ?lastEventId= on a first request, as after a page reload', async () => {
    const sub = user('reload');
    const first = await open(sub);
    await producer.send('chat', [{ type: 'notification', data: { n: 1 }, userId: sub }]);
    await first.waitForEvent((event) => (event.data as { n: number }).n === 1);
    first.close();
    await producer.send('chat', [{ type: 'notification', data: { n: 2 }, userId: sub }]);

    const reloaded = await open(sub, { query: `?lastEventId=${encodeURIComponent(first.lastId!)}` });
    await reloaded.waitForEvent((event) => (event.data as { n: number }).n === 2);
    expect(reloaded.events.map((event) => event.data)).toEqual([{ n: 2 }]);
    expect(reloaded.resets).toEqual([]);
  });

  describe('ids that cannot be served', () => {
    async function expectReset(lastEventId: string, reason: string): Promise<void> {
      const sub = user(`reset-${reason}`);
      const stream = await open(sub, { lastEventId });
      const reset = await waitFor(() => stream.resets[0], 'a reset event');
      expect(reset.data).toEqual({ reason, message: expect.any(String) as unknown });
      // Then the stream goes on live.
      await producer.send('notifications', [{ type: 'notification', data: { live: true }, userId: sub }]);
      await stream.waitForEvent((event) => event.type === 'notification');
      expect(stream.events.map((event) => event.data)).toEqual([{ live: true }]);
    }

    it.each([
      ['garbage', 'not an id at all', 'malformed-id'],
      ['an id with a bad offset', 'notifications:12x', 'malformed-id'],
      ['an unknown topic', 'elsewhere:1.2.3', 'unknown-position'],
      ['an unknown partition', 'notifications:0.0.0.0.0.0.0.0.0.0.5', 'unknown-position'],
    ])('should answer %s with an explicit reset, then go live', async (_, id, reason) => {
      await expectReset(id, reason);
    });

    it('should reset an id further back than RESUME_HORIZON_RECORDS, saying so', async () => {
      const small = await startTestGateway({ REPLAY_MAX_BYTES: '0', RESUME_HORIZON_RECORDS: '10' });
      try {
        const sub = user('horizon');
        const token = await signToken({ sub });
        const first = new TestStream(`${small.url}/events?topics=orders`, {
          headers: { authorization: `Bearer ${token}` },
        });
        streams.push(first);
        await first.waitForOpen();
        await producer.send('orders', [{ type: 'notification', data: { n: 0 }, userId: sub }]);
        const old = await first.waitForEvent((event) => event.type === 'notification');
        await producer.send(
          'orders',
          Array.from({ length: 40 }, (_, n) => ({
            type: 'notification',
            data: { n },
            userId: `${sub}-other`,
          })),
        );
        await waitFor(
          () =>
            small.log.resume(sub, ['orders'], namedPosition(resumeFrom(old.id), small.log)!).kind === 'gap',
          'the id to be beyond the horizon',
        );

        const resumed = new TestStream(`${small.url}/events?topics=orders`, {
          headers: { authorization: `Bearer ${token}` },
          lastEventId: old.id,
        });
        streams.push(resumed);
        const reset = await waitFor(() => resumed.resets[0], 'a reset event');
        expect(reset.data).toEqual({ reason: 'beyond-horizon', message: expect.any(String) as unknown });
      } finally {
        streams.splice(0).forEach((stream) => stream.close());
        await small.close();
      }
    });
  });
});
