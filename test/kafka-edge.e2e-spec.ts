import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { LogPosition } from '../src/log/log-position.js';
import { namedPosition, resumeFrom } from '../src/stream/resume-plan.js';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
import { produceWithJava, type JavaCodec } from './support/java-producer.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { produceWithRdkafka } from './support/rdkafka-producer.js';
import { TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

const CODECS: JavaCodec[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** What the log under the gateway can do: compressed batches, bombs, new partitions, a recreated topic. */
describe('The Kafka edge (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const brokers = splitList(process.env.KAFKA_BROKERS);
  const streams: TestStream[] = [];
  const gateways: TestGateway[] = [];
  let producer: TestProducer;
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();

  beforeAll(async () => {
    producer = await createTestProducer();
    await admin.connect();
  });

  afterEach(async () => {
    streams.splice(0).forEach((stream) => stream.close());
    for (const gateway of gateways.splice(0)) await gateway.close();
  });

  afterAll(async () => {
    await admin.disconnect();
    await producer.close();
  });

  async function gatewayWith(env: Record<string, string> = {}): Promise<TestGateway> {
    const gateway = await startTestGateway({ KAFKA_METADATA_REFRESH_MS: '1000', ...env });
    gateways.push(gateway);
    return gateway;
  }

  async function streamOf(
    gateway: TestGateway,
    sub: string,
    query = '',
    lastEventId?: string,
  ): Promise<TestStream> {
    const stream = new TestStream(`${gateway.url}/events${query}`, {
      headers: { authorization: `Bearer ${await signToken({ sub })}` },
      types: ['notification'],
      ...(lastEventId === undefined ? {} : { lastEventId }),
    });
    streams.push(stream);
    await stream.waitForOpen();
    return stream;
  }

  const notes = (sub: string, from: number, count: number, field = 'n') =>
    Array.from({ length: count }, (_, i) =>
      JSON.stringify({ type: 'notification', data: { [field]: from + i }, userId: sub }),
    );
  const numbers = (stream: TestStream, field = 'n') =>
    stream.events
      .map((event) => (event.data as Record<string, number>)[field])
      .filter((n) => n !== undefined);
  const reasons = (stream: TestStream) =>
    stream.resets.map((reset) => (reset.data as { reason: string }).reason);

  it('should deliver gzip, snappy, lz4 and zstd batches written by the Java producer and by librdkafka', async () => {
    const gateway = await gatewayWith();
    const sub = `codecs-${run}`;
    const stream = await streamOf(gateway, sub, '?topics=chat');
    let next = 0;
    for (const codec of CODECS) {
      await produceWithJava('chat', 1, codec, notes(sub, next, 3));
      next += 3;
      await produceWithRdkafka('chat', 2, codec, notes(sub, next, 3));
      next += 3;
    }

    await waitFor(() => numbers(stream).length >= next, `all ${next} compressed records`, 60_000);
    expect([...numbers(stream)].sort((a, b) => a - b)).toEqual(Array.from({ length: next }, (_, n) => n));
    expect(await gateway.metric('kafka_batches_skipped_total')).toBe(0);
  }, 120_000);

  it('should skip and count a decompression bomb, and go on with the next record of its partition', async () => {
    const gateway = await gatewayWith({ KAFKA_MAX_DECOMPRESSED_BYTES: String(1024 * 1024) });
    const sub = `bomb-${run}`;
    const stream = await streamOf(gateway, sub, '?topics=orders');
    const liveBefore = (await fetch(`${gateway.url}/health/live`)).status;

    // 8 MiB of zeros in one gzip batch of a few kilobytes.
    await produceWithJava('orders', 1, 'gzip', ['@zeros:8388608']);
    await producer.send('orders', [{ type: 'notification', data: { n: 1 }, userId: sub }], 1);

    await stream.waitForEvent(() => true, 'the record after the bomb');
    expect(numbers(stream)).toEqual([1]);
    expect(await gateway.metric('kafka_batches_skipped_total', { reason: 'too-large' })).toBe(1);
    expect([liveBefore, (await fetch(`${gateway.url}/health/live`)).status]).toEqual([200, 200]);
  }, 120_000);

  it('should read a gzip batch of 200,000 records and skip one of 650,000, where kafkajs stopped every consumer', async () => {
    const topic = `many-records-${run}`;
    await ensureTopics(brokers, [topic], 1);
    const gateway = await gatewayWith({ KAFKA_TOPICS: topic });
    const sub = `many-${run}`;
    const stream = await streamOf(gateway, sub);

    // One batch each (kafkajs's own producer takes minutes to group that many records): past
    // about 125,000 records kafkajs's decoding overflowed the stack, and 650,000 is over the
    // default KAFKA_MAX_BATCH_RECORDS.
    await produceWithJava(topic, 0, 'gzip', ['@empty:200000']);
    await produceWithJava(topic, 0, 'gzip', ['@empty:650000']);
    await producer.send(topic, [{ type: 'notification', data: { n: 1 }, userId: sub }], 0);

    await waitFor(() => numbers(stream).length > 0, 'the record after the batches', 60_000);
    expect(numbers(stream)).toEqual([1]);
    expect(await gateway.metric('kafka_records_invalid_total', { reason: 'not-json' })).toBe(200_000);
    expect(await gateway.metric('kafka_batches_skipped_total', { reason: 'too-many-records' })).toBe(1);
    expect(await gateway.metric('kafka_consumer_restarts_total')).toBe(0);
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
  }, 180_000);

  it('should count a dead-letter topic that does not exist, without holding up the partition', async () => {
    const gateway = await gatewayWith({ KAFKA_DEAD_LETTER_TOPIC: `missing-dead-letters-${run}` });
    const sub = `dlq-${run}`;
    const stream = await streamOf(gateway, sub, '?topics=notifications');

    await producer.sendRaw(
      'notifications',
      ['not json', JSON.stringify({ type: 'notification', data: { n: 1 }, userId: sub })],
      2,
    );

    await stream.waitForEvent(() => true, 'the valid record after the invalid one');
    await waitFor(
      async () => (await gateway.metric('kafka_dead_letters_total', { outcome: 'failed' })) >= 1,
      'the failed copy to be counted',
    );
  });

  it('should lose nothing of partitions added at run time, and resume from ids that name them', async () => {
    const topic = `grow-${run}`;
    await ensureTopics(brokers, [topic], 1);
    const gateway = await gatewayWith({ KAFKA_TOPICS: topic });
    const sub = `grow-${run}`;
    const stream = await streamOf(gateway, sub);

    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
    for (const partition of [0, 1, 2])
      await producer.sendRaw(topic, notes(sub, partition * 10, 5), partition);

    await waitFor(() => numbers(stream).length >= 15, 'the records of the new partitions', 60_000);
    expect([...numbers(stream)].sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24,
    ]);
    const last = stream.events.at(-1)!;
    expect(namedPosition(resumeFrom(last.id), gateway.log)!.partitionCount(topic)).toBe(3);

    stream.close();
    await producer.sendRaw(topic, notes(sub, 30, 2), 2);
    const resumed = await streamOf(gateway, sub, '', stream.lastId);
    await waitFor(() => numbers(resumed).length >= 2, 'what was missed on the new partition');
    expect(numbers(resumed)).toEqual([30, 31]);
    expect(resumed.resets).toEqual([]);
  }, 120_000);

  it('should reset an id whose offsets lie beyond the end of the log, then stream live', async () => {
    const gateway = await gatewayWith();
    const sub = `beyond-${run}`;
    const beyond = LogPosition.empty();
    for (const partition of [0, 1, 2]) beyond.set('orders', partition, 1_000_000_000);

    const stream = await streamOf(gateway, sub, '?topics=orders', beyond.format(['orders']));

    await waitFor(() => reasons(stream).length > 0, 'a reset', 15_000);
    expect(reasons(stream)).toEqual(['unknown-position']);
    await producer.send('orders', [{ type: 'notification', data: { n: 1 }, broadcast: true }], 0);
    await stream.waitForEvent(() => true, 'a live broadcast after the reset');
  });

  it('should reset streams and ids of a topic deleted and recreated under the gateway', async () => {
    const topic = `recreate-${run}`;
    await ensureTopics(brokers, [topic], 1);
    const gateway = await gatewayWith({ KAFKA_TOPICS: topic });
    const sub = `recreate-${run}`;
    const stream = await streamOf(gateway, sub);
    await producer.sendRaw(topic, notes(sub, 0, 5), 0);
    await waitFor(() => numbers(stream).length >= 5, 'the first life of the topic');
    const oldId = stream.lastId!;

    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), 'the topic to be deleted', 30_000);
    await ensureTopics(brokers, [topic], 1);
    await producer.sendRaw(topic, notes(sub, 100, 2), 0);

    await waitFor(
      () => reasons(stream).includes('log-changed'),
      'a log-changed reset on the open stream',
      60_000,
    );
    await waitFor(() => numbers(stream).includes(101), 'the records of the new topic', 30_000);
    const resumed = await streamOf(gateway, sub, '', oldId);
    await waitFor(() => reasons(resumed).length > 0, 'a reset of the old id', 15_000);
    expect(reasons(resumed)).toEqual(['unknown-position']);
  }, 150_000);
});
