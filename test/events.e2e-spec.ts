import { randomUUID } from 'node:crypto';
import { namedPosition, resumeFrom } from '../src/stream/resume-plan.js';
import { RawStream, TestStream, type ReceivedEvent } from './support/sse-client.js';
import { useGatewaySuite } from './support/gateway-suite.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

describe('Kafka events to per-user streams (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const user = (name: string) => `${name}-${run}`;
  const dataOf = (events: ReceivedEvent[]) => events.map((event) => event.data);

  const suite = useGatewaySuite({ SSE_HEARTBEAT_MS: '1000', KAFKA_MAX_RECORD_BYTES: '4096' });

  async function open(sub: string, query = '', topics?: string[]): Promise<TestStream> {
    const token = await signToken({ sub, ...(topics ? { topics } : {}) });
    const stream = new TestStream(`${suite.gateway.url}/events${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    suite.track(stream);
    await stream.waitForOpen();
    return stream;
  }

  const note = (n: number, addressing: object, type = 'notification') => ({
    type,
    data: { n },
    ...addressing,
  });

  it('should give each user its own events and none of anyone else', async () => {
    const alice = await open(user('alice'));
    const bob = await open(user('bob'));

    await suite.producer.send('notifications', [
      note(1, { userId: user('bob') }),
      note(2, { userId: user('alice') }),
    ]);
    await alice.waitForEvent((event) => event.type === 'notification');
    await bob.waitForEvent((event) => event.type === 'notification');
    // Both were written to the same partition in order, so anything misrouted would have arrived first.
    await suite.producer.send('notifications', [
      note(3, { userId: user('alice') }),
      note(4, { userId: user('bob') }),
    ]);
    await alice.waitForEvent((event) => (event.data as { n: number }).n === 3);
    await bob.waitForEvent((event) => (event.data as { n: number }).n === 4);

    expect(dataOf(alice.events)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(dataOf(bob.events)).toEqual([{ n: 1 }, { n: 4 }]);
  });

  it('should deliver userIds events to each listed user and broadcasts to everyone', async () => {
    const [carol, dave, erin] = await Promise.all(['carol', 'dave', 'erin'].map((name) => open(user(name))));

    await suite.producer.send('notifications', [
      note(1, { userIds: [user('carol'), user('dave'), user('carol')] }),
      note(2, { broadcast: true }),
    ]);
    await Promise.all(
      [carol!, dave!, erin!].map((stream) =>
        stream.waitForEvent((event) => (event.data as { n: number }).n === 2),
      ),
    );

    expect(dataOf(carol!.events)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(dataOf(dave!.events)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(dataOf(erin!.events)).toEqual([{ n: 2 }]);
  });

  it('should only deliver the topics asked for', async () => {
    const ordersOnly = await open(user('frank'), '?topics=orders');
    const witness = await open(user('frank'), '?topics=notifications');

    await suite.producer.send('notifications', [note(1, { userId: user('frank') })]);
    await witness.waitForEvent(
      (event) => event.type === 'notification',
      'the witness to see the notification',
    );
    // Produced only once the notification was routed: had it been routed to ordersOnly too, it came first.
    await suite.producer.send('orders', [note(2, { userId: user('frank') }, 'order.created')]);
    await ordersOnly.waitForEvent((event) => event.type === 'order.created');

    expect(ordersOnly.events.map((event) => event.type)).toEqual(['order.created']);
  });

  it('should narrow the default topics to the token topics claim', async () => {
    const narrowed = await open(user('gina'), '', ['chat']);
    const witness = await open(user('gina'), '?topics=notifications');

    await suite.producer.send('notifications', [note(1, { userId: user('gina') })]);
    await witness.waitForEvent((event) => event.type === 'notification');
    await suite.producer.send('chat', [note(2, { userId: user('gina') }, 'chat.message')]);
    await narrowed.waitForEvent((event) => event.type === 'chat.message');

    expect(narrowed.events.map((event) => event.type)).toEqual(['chat.message']);
  });

  it('should skip, count and survive invalid records, then deliver the next valid one on the same partition', async () => {
    const harry = await open(user('harry'));
    const reasons = [
      'not-json',
      'tombstone',
      'not-utf8',
      'too-large',
      'not-object',
      'bad-type',
      'reserved-type',
      'missing-data',
      'bad-addressing',
      'bad-user-id',
    ];
    const count = async () =>
      new Map(
        await Promise.all(
          reasons.map(
            async (reason) =>
              [reason, await suite.gateway.metric('kafka_records_invalid_total', { reason })] as const,
          ),
        ),
      );
    const before = await count();
    const invalid: Record<string, string | Buffer | null> = {
      'not-json': '{"type": "notification", ',
      tombstone: null,
      'not-utf8': Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      'too-large': JSON.stringify(note(0, { userId: user('harry') })).replace(
        '{"n":0}',
        `"${'x'.repeat(5000)}"`,
      ),
      'not-object': '[1, 2, 3]',
      'bad-type': JSON.stringify({ type: 'a\r\nevent: forged', data: 1, userId: user('harry') }),
      'reserved-type': JSON.stringify({ type: 'error', data: 1, userId: user('harry') }),
      'missing-data': JSON.stringify({ type: 'notification', userId: user('harry') }),
      'bad-addressing': JSON.stringify({ type: 'notification', data: 1 }),
      'bad-user-id': JSON.stringify({ type: 'notification', data: 1, userId: 42 }),
    };
    const twoAddressings = JSON.stringify({
      type: 'notification',
      data: 1,
      userId: user('harry'),
      broadcast: true,
    });

    await suite.producer.sendRaw(
      'notifications',
      [...Object.values(invalid), twoAddressings, JSON.stringify(note(7, { userId: user('harry') }))],
      1,
    );
    await harry.waitForEvent(
      (event) => (event.data as { n: number }).n === 7,
      'the valid record after the invalid ones',
    );

    expect(dataOf(harry.events)).toEqual([{ n: 7 }]);
    const after = await count();
    for (const reason of Object.keys(invalid)) {
      const added = (after.get(reason) ?? 0) - (before.get(reason) ?? 0);
      expect([reason, added]).toEqual([reason, reason === 'bad-addressing' ? 2 : 1]);
    }
  });

  it('should set its own ids: the event position, then the resume point; never a per-connection counter', async () => {
    await waitFor(() => suite.gateway.log.latestCheckpoint(), 'a checkpoint in the positions topic');
    const ivan = await open(user('ivan'));
    await suite.producer.send('orders', [note(1, { userId: user('ivan') }, 'order.created')], 2);
    const event = await ivan.waitForEvent((received) => received.type === 'order.created');

    // The event's position, then the checkpoint the stream stands on and, when the stream has moved
    // past it, where (`.<given>`); resolved, that is the position just after the event.
    const [, offset, name] = /^orders\/2\/(\d+);@([0-9a-z]+)(?:\.[\w-]+)?$/.exec(event.id) ?? [];
    expect(offset).toBeDefined();
    expect(suite.gateway.log.checkpoint(parseInt(name!, 36))).toBeDefined();
    expect(namedPosition(resumeFrom(event.id), suite.gateway.log)!.get('orders', 2)).toBe(Number(offset) + 1);
  });

  it('should start with a retry hint and a resume point, then send heartbeat comments', async () => {
    await waitFor(() => suite.gateway.log.latestCheckpoint(), 'a checkpoint in the positions topic');
    const token = await signToken({ sub: user('judy') });
    const raw = await RawStream.open(`${suite.gateway.url}/events?topics=chat`, {
      authorization: `Bearer ${token}`,
    });
    suite.track(raw);

    expect(raw.response.status).toBe(200);
    expect(raw.response.headers.get('content-type')).toContain('text/event-stream');
    await raw.waitForText(
      /^\nevent: checkpoint\nid: @[0-9a-z]+\nretry: 200\ndata: \n\n/,
      'the opening message',
    );
    await raw.waitForText(/\nevent: checkpoint\nid: @[0-9a-z]+\n: \ndata: \n\n/, 'a heartbeat comment');
    expect(raw.text).not.toMatch(/^id: \d+$/m);
  });

  it('should not leave subscriptions behind when clients disconnect', async () => {
    const stream = await open(user('kate'));
    expect(suite.gateway.bus.subscriberCount).toBe(1);
    stream.close();
    await waitFor(() => suite.gateway.bus.subscriberCount === 0, 'the subscription to be removed');
  });
});
