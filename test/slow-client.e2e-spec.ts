import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

const EVENTS = 2500;
const PAYLOAD = 'x'.repeat(8000);

describe('A client that stops reading (e2e)', () => {
  let gateway: TestGateway;
  let producer: TestProducer;
  let socket: Socket | undefined;
  let resumed: TestStream | undefined;

  beforeAll(async () => {
    gateway = await startTestGateway({
      REPLAY_MAX_BYTES: String(256 * 1024 ** 2),
      REPLAY_MAX_BYTES_PER_USER: String(256 * 1024 ** 2),
    });
    producer = await createTestProducer();
  });

  afterAll(async () => {
    socket?.destroy();
    resumed?.close();
    await producer.close();
    await gateway.close();
  });

  it('should be disconnected instead of queued for without limit, and resume without losing anything', async () => {
    const sub = `slow-${randomUUID().slice(0, 8)}`;
    const token = await signToken({ sub });
    const { port } = new URL(gateway.url);
    let text = '';
    let closed = false;
    socket = connect(Number(port), '127.0.0.1');
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => (closed = true));
    socket.write(
      `GET /events?topics=orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    await waitFor(() => text.includes('event: checkpoint'), 'the stream to start');
    socket.pause();

    for (let from = 0; from < EVENTS && !closed; from += 100) {
      const batch = Array.from({ length: Math.min(100, EVENTS - from) }, (_, i) => ({
        type: 'notification',
        data: { n: from + i, payload: PAYLOAD },
        userId: sub,
      }));
      await producer.send('orders', batch, 0);
    }
    await waitFor(() => gateway.bus.subscriberCount === 0, 'the gateway to drop the stalled stream', 60_000);
    expect(await gateway.metric('sse_streams_closed_total', { reason: 'slow' })).toBe(1);

    // Read what the kernel still held, then resume after the last complete event.
    socket.resume();
    await waitFor(() => closed, 'the connection to close');
    const blocks = text.split('\n\n').slice(0, -1);
    const delivered = blocks.filter((block) => block.includes('event: notification'));
    expect(delivered.length).toBeLessThan(EVENTS);
    const lastId = /^id: (.*)$/m.exec(blocks.at(-1)!)![1]!;
    const before = delivered.map((block) => JSON.parse(/^data: (.*)$/m.exec(block)![1]!).n as number);

    resumed = new TestStream(`${gateway.url}/events?topics=orders`, {
      headers: { authorization: `Bearer ${token}` },
      lastEventId: lastId,
    });
    await waitFor(() => before.length + resumed!.events.length >= EVENTS, 'the rest of the events', 60_000);
    const after = resumed.events.map((event) => (event.data as { n: number }).n);
    expect([...before, ...after]).toEqual(Array.from({ length: EVENTS }, (_, n) => n));
  }, 120_000);
});
