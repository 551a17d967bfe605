import { randomUUID } from 'node:crypto';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/** Characters a header value takes as they are, which a CORS-safelisted Last-Event-ID allows. */
const HEADER_SAFE = /^[A-Za-z0-9._~=/;@-]+$/;

describe('Event ids (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const topic = `ids-${run}`;
  const positionsTopic = `ids-${run}-positions`;
  const gateways: TestGateway[] = [];
  const streams: TestStream[] = [];
  let producer: TestProducer;

  beforeAll(async () => {
    await ensureTopics(splitList(process.env.KAFKA_BROKERS), [topic], 64);
    producer = await createTestProducer();
    for (let i = 0; i < 2; i++)
      gateways.push(await startTestGateway({ KAFKA_TOPICS: topic, KAFKA_POSITIONS_TOPIC: positionsTopic }));
  }, 120_000);

  afterAll(async () => {
    streams.forEach((stream) => stream.close());
    for (const gateway of gateways) await gateway.close();
    await producer.close();
  });

  const open = async (gateway: TestGateway, sub: string, lastEventId?: string): Promise<TestStream> => {
    const stream = new TestStream(`${gateway.url}/events`, {
      headers: { authorization: `Bearer ${await signToken({ sub })}` },
      types: ['notification'],
      ...(lastEventId === undefined ? {} : { lastEventId }),
    });
    streams.push(stream);
    await stream.waitForOpen();
    return stream;
  };
  const numbers = (stream: TestStream) => stream.events.map((event) => (event.data as { n: number }).n);

  it('should be at most 128 header-safe bytes at 64 partitions, and resume exactly on another instance', async () => {
    const [first, second] = gateways as [TestGateway, TestGateway];
    const sub = `ids-${run}`;
    await waitFor(() => first.log.latestCheckpoint(), 'a checkpoint in the positions topic');
    const stream = await open(first, sub);
    for (let n = 0; n < 12; n++)
      await producer.send(topic, [{ type: 'notification', data: { n }, userId: sub }], (n * 5) % 64);

    await waitFor(() => numbers(stream).length === 12, 'the events on twelve partitions');
    const ids = stream.events.map((event) => event.id);
    expect(ids.filter((id) => Buffer.byteLength(id) > 128 || !HEADER_SAFE.test(id))).toEqual([]);
    expect(ids.every((id) => id.includes(';@'))).toBe(true);
    const last = stream.lastId!;
    stream.close();

    for (let n = 12; n < 16; n++)
      await producer.send(topic, [{ type: 'notification', data: { n }, userId: sub }], (n * 7) % 64);
    // The other instance may not have read the checkpoint yet: it waits for it.
    const resumed = await open(second, sub, last);

    await waitFor(() => numbers(resumed).length >= 4, 'what was missed');
    expect([...numbers(resumed)].sort((a, b) => a - b)).toEqual([12, 13, 14, 15]);
    expect(resumed.resets).toEqual([]);
  }, 120_000);

  it('should resume from a checkpoint no instance keeps in memory any more, read back from the positions topic', async () => {
    const [first, second] = gateways as [TestGateway, TestGateway];
    const sub = `old-${run}`;
    const stream = await open(first, sub);
    for (let n = 0; n < 3; n++)
      await producer.send(topic, [{ type: 'notification', data: { n }, userId: sub }], n + 1);
    await waitFor(() => numbers(stream).length === 3, 'the first events');
    const last = stream.lastId!;
    stream.close();
    const checkpoint = parseInt(/;@([0-9a-z]+)/.exec(last)![1]!, 36);
    await waitFor(() => second.log.checkpoint(checkpoint), 'the other instance to read the checkpoint');

    // Other instances' checkpoints push it out of memory, which keeps the newest 10,000.
    const filler = first.log.latestCheckpoint()!.position.format([topic]);
    for (let batch = 0; batch < 11; batch++)
      await producer.sendRaw(
        positionsTopic,
        Array.from({ length: 1000 }, () => filler),
      );
    await waitFor(() => second.log.checkpoint(checkpoint) === undefined, 'the checkpoint to leave memory');
    for (let n = 3; n < 6; n++)
      await producer.send(topic, [{ type: 'notification', data: { n }, userId: sub }], n + 1);
    const resumed = await open(second, sub, last);

    await waitFor(() => numbers(resumed).length >= 3, 'what was missed');
    expect([...numbers(resumed)].sort((a, b) => a - b)).toEqual([3, 4, 5]);
    expect(resumed.resets).toEqual([]);
  }, 120_000);
});
