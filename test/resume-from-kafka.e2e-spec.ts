import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
import { LogPosition } from '../src/log/log-position.js';
import { produceWithJava } from './support/java-producer.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/**
 * Resumes from Kafka: every gateway here keeps nothing in memory (REPLAY_MAX_BYTES=0), so a
 * client that comes back is served what it missed from Kafka, then live.
 */
describe('Resuming from Kafka (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const brokers = splitList(process.env.KAFKA_BROKERS);
  const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((name) => `resume-${name}-${run}`);
  const streams: TestStream[] = [];
  const gateways: TestGateway[] = [];
  let producer: TestProducer;

  const start = async (topics: string): Promise<TestGateway> => {
    const gateway = await startTestGateway({
      KAFKA_TOPICS: topics,
      REPLAY_MAX_BYTES: '0',
      KAFKA_METADATA_REFRESH_MS: '1000',
    });
    gateways.push(gateway);
    return gateway;
  };

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
  const reasons = (stream: TestStream) =>
    stream.resets.map((reset) => (reset.data as { reason: string }).reason);

  /** Every gateway has processed `topic/partition` up to `offset` (exclusive). */
  const processed = (topic: string, partition: number, offset: number) =>
    waitFor(
      () => gateways.every((gateway) => (gateway.log.nextOffset(topic, partition) ?? 0) >= offset),
      `${topic}/${partition} to be processed up to ${offset}`,
    );

  beforeAll(async () => {
    await ensureTopics(brokers, [A!], 2);
    await ensureTopics(brokers, [B!, C!, D!], 1);
    producer = await createTestProducer();
  });

  afterEach(async () => {
    streams.splice(0).forEach((stream) => stream.close());
    for (const gateway of gateways.splice(0)) await gateway.close();
  });

  afterAll(async () => {
    await producer.close();
  });

  it('should serve a client away longer than memory keeps anything exactly, on another instance, and after a restart', async () => {
    const first = await start(`${A},${B}`);
    const second = await start(`${A},${B}`);
    const sub = `away-${run}`;
    const before = await open(first, sub);
    await producer.send(A!, [{ type: 'notification', data: { n: 0 }, userId: sub }], 0);
    await waitFor(() => numbers(before).length === 1, 'the first event');
    const away = before.lastId!;
    before.close();

    await producer.send(A!, [{ type: 'notification', data: { n: 1 }, userId: sub }], 0);
    await producer.send(
      A!,
      [
        { type: 'notification', data: { n: 2 }, userIds: ['someone', sub] },
        { type: 'notification', data: { n: 99 }, userId: 'someone' },
      ],
      1,
    );
    await producer.send(
      B!,
      [
        { type: 'notification', data: { n: 3 }, broadcast: true },
        { type: 'notification', data: { n: 4 }, userId: sub },
      ],
      0,
    );
    await processed(A!, 1, 2);
    await processed(B!, 0, 2);

    const elsewhere = await open(second, sub, away);
    await waitFor(() => numbers(elsewhere).length >= 4, 'what was missed, from Kafka');
    await producer.send(B!, [{ type: 'notification', data: { n: 5 }, userId: sub }], 0);
    await waitFor(() => numbers(elsewhere).length >= 5, 'a live event after it');
    expect([...numbers(elsewhere)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(numbers(elsewhere).filter((n) => n === 3 || n === 4 || n === 5)).toEqual([3, 4, 5]);
    expect(elsewhere.resets).toEqual([]);
    const later = elsewhere.lastId!;
    elsewhere.close();

    await producer.send(B!, [{ type: 'notification', data: { n: 6 }, userId: sub }], 0);
    await first.close();
    gateways.splice(gateways.indexOf(first), 1);
    const restarted = await start(`${A},${B}`);
    const again = await open(restarted, sub, later);
    await producer.send(A!, [{ type: 'notification', data: { n: 7 }, userId: sub }], 1);
    await waitFor(() => numbers(again).length >= 2, 'the missed event and a live one');
    expect(numbers(again)).toEqual([6, 7]);
    expect(again.resets).toEqual([]);
  }, 180_000);

  it('should reset a client whose position Kafka no longer has, saying the records expired', async () => {
    const gateway = await start(C!);
    const sub = `expired-${run}`;
    const before = await open(gateway, sub);
    await producer.send(C!, [{ type: 'notification', data: { n: 0 }, userId: sub }], 0);
    await waitFor(() => numbers(before).length === 1, 'the first event');
    const away = before.lastId!;
    before.close();
    await producer.send(C!, [{ type: 'notification', data: { n: 1 }, userId: sub }], 0);
    await processed(C!, 0, 2);

    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [C!] });
    await admin.deleteTopicRecords({ topic: C!, partitions: [{ partition: 0, offset: '2' }] });
    await admin.disconnect();
    await waitFor(() => gateway.log.logStartOf(C!, 0) === 2, 'the gateway to see the new log start');

    const resumed = await open(gateway, sub, away);
    await waitFor(() => reasons(resumed).length > 0, 'a reset');
    expect(reasons(resumed)).toEqual(['expired']);
    expect(LogPosition.parse(resumed.resets[0]!.id)!.get(C!, 0)).toBe(2);
  }, 120_000);

  it('should read a partition a few times for a thousand clients resuming there, not a thousand times', async () => {
    const gateway = await start(D!);
    const probe = await open(gateway, `storm-probe-${run}`);
    await producer.send(D!, [{ type: 'notification', data: { n: 0 }, broadcast: true }], 0);
    await waitFor(() => numbers(probe).length === 1, 'the first event');
    const away = probe.lastId!;
    probe.close();
    // A range that takes a while to read, then one event every client missed.
    const range = 100_000;
    await produceWithJava(D!, 0, 'gzip', [`@empty:${range}`]);
    await producer.send(D!, [{ type: 'notification', data: { n: 1 }, broadcast: true }], 0);
    await processed(D!, 0, range + 2);
    const counts = async () => ({
      started: await gateway.metric('gateway_catchups_total', { outcome: 'started' }),
      joined: await gateway.metric('gateway_catchups_total', { outcome: 'joined' }),
      scanned: await gateway.metric('gateway_catchup_records_total', { kind: 'scanned' }),
    });
    const before = await counts();

    const clients = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => open(gateway, `storm-${run}-${i}`, away)),
    );
    await waitFor(
      () => clients.every((client) => numbers(client).length === 1),
      'every client to catch up',
      60_000,
    );

    expect(clients.flatMap(numbers)).toEqual(new Array<number>(1000).fill(1));
    const after = await counts();
    const [started, joined, scanned] = [
      after.started - before.started,
      after.joined - before.joined,
      after.scanned - before.scanned,
    ];
    // A client that arrives while a pass runs joins it, and one whose position the pass has gone
    // by rides its next lap; one that arrives after the last lap ended starts another pass.
    // Opening a thousand streams takes longer than a lap, so there are a few laps (one per wave of
    // arrivals, about ten on a busy machine): never one read per client.
    expect({ started, joined }).toEqual({ started: expect.any(Number) as number, joined: 1000 - started });
    expect(started).toBeLessThanOrEqual(2);
    expect(scanned).toBeLessThanOrEqual(20 * (range + 2));
  }, 180_000);
});
