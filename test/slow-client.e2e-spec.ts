import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CompressionTypes } from 'kafkajs';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
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

    for (let from = 0; from < EVENTS; from += 100) {
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

  it('should drop every stream a burst would fill past the bound within one turn, each able to resume after its last id', async () => {
    const run = randomUUID().slice(0, 8);
    const topic = `burst-${run}`;
    await ensureTopics(splitList(process.env.KAFKA_BROKERS), [topic], 1);
    const burstGateway = await startTestGateway({ KAFKA_TOPICS: topic, KAFKA_METADATA_REFRESH_MS: '1000' });
    const sockets: Array<{ socket: Socket; text: () => string; closed: () => boolean }> = [];
    try {
      const { port } = new URL(burstGateway.url);
      for (let i = 0; i < 20; i++) {
        let text = '';
        let closed = false;
        const stalled = connect(Number(port), '127.0.0.1');
        stalled.setEncoding('utf8');
        stalled.on('data', (chunk: string) => (text += chunk));
        stalled.on('close', () => (closed = true));
        stalled.write(
          `GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${await signToken({ sub: `burst-${run}-${i}` })}\r\nAccept: text/event-stream\r\n\r\n`,
        );
        await waitFor(() => text.includes('event: checkpoint'), `stream ${i} to start`);
        stalled.pause();
        sockets.push({ socket: stalled, text: () => text, closed: () => closed });
      }

      // 4 MiB of broadcasts in one gzip batch: one fetch, one turn of the gateway's event loop.
      const payload = 'y'.repeat(10_000);
      await producer.sendRaw(
        topic,
        Array.from({ length: 420 }, (_, n) =>
          JSON.stringify({ type: 'notification', data: { n, payload }, broadcast: true }),
        ),
        0,
        CompressionTypes.GZIP,
      );

      await waitFor(
        async () => (await burstGateway.metric('sse_streams_closed_total', { reason: 'slow' })) === 20,
        'every stalled stream to be dropped',
        60_000,
      );
      const held = await burstGateway.metric('sse_slow_stream_backlog_max_chars');
      expect(held).toBeLessThanOrEqual(256 * 1024 + 10_200);

      // One of them reads what the kernel held, then resumes after its last complete event.
      const [first] = sockets;
      first!.socket.resume();
      await waitFor(() => first!.closed(), 'the connection to close');
      const blocks = first!.text().split('\n\n').slice(0, -1);
      const before = blocks
        .filter((block) => block.includes('event: notification'))
        .map((block) => (JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { n: number }).n);
      const lastId = /^id: (.*)$/m.exec(blocks.at(-1)!)![1]!;
      resumed = new TestStream(`${burstGateway.url}/events`, {
        headers: { authorization: `Bearer ${await signToken({ sub: `burst-${run}-0` })}` },
        lastEventId: lastId,
      });
      await waitFor(() => before.length + resumed!.events.length >= 420, 'the rest of the burst', 60_000);
      const after = resumed.events.map((event) => (event.data as { n: number }).n);
      expect([...before, ...after]).toEqual(Array.from({ length: 420 }, (_, n) => n));
    } finally {
      resumed?.close();
      for (const { socket: each } of sockets) each.destroy();
      await burstGateway.close();
    }
  }, 120_000);
});
