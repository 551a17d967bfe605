import { randomUUID } from 'node:crypto';
import { EmbeddedKafka } from '../scripts/embedded-kafka.mjs';
import { ensureTopics } from '../scripts/kafka-topics.mjs';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { TEST_TOPICS } from './support/test-topics.mjs';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/** A broker of its own, so stopping it disturbs no other suite. */
describe('Kafka broker restart (e2e)', () => {
  let kafka: EmbeddedKafka;
  let gateway: TestGateway;
  let producer: TestProducer;
  let stream: TestStream | undefined;
  const sub = `outage-${randomUUID().slice(0, 8)}`;
  const numbers = () => stream!.events.map((event) => (event.data as { n: number }).n);
  const readiness = async () => (await fetch(`${gateway.url}/health/ready`)).status;
  const send = (n: number) =>
    producer.send('notifications', [{ type: 'notification', data: { n }, userId: sub }], 2);
  /** Milliseconds from `since` until event `n` arrives. */
  const arrival = async (n: number, since: number) => {
    await waitFor(() => numbers().includes(n), `event ${n} after the outage`, 60_000);
    return Date.now() - since;
  };

  beforeAll(async () => {
    kafka = await EmbeddedKafka.start();
    await ensureTopics(kafka.brokers, TEST_TOPICS, 3);
    gateway = await startTestGateway({ KAFKA_BROKERS: kafka.brokers.join(',') });
    producer = await createTestProducer(kafka.brokers.join(','));
  }, 120_000);

  afterAll(async () => {
    stream?.close();
    await producer?.close();
    await gateway?.close();
    await kafka?.stop();
  }, 60_000);

  it('should keep streams open through the outage and deliver what was produced during and after it', async () => {
    stream = new TestStream(`${gateway.url}/events`, {
      headers: { authorization: `Bearer ${await signToken({ sub })}` },
    });
    await stream.waitForOpen();
    await send(1);
    await waitFor(() => numbers().includes(1), 'event 1 before the outage');
    await waitFor(async () => (await readiness()) === 200, 'readiness before the outage');

    await kafka.pause();
    await waitFor(async () => (await readiness()) === 503, 'readiness to report the outage', 30_000);
    // The producer retries until the broker is back: this record is produced during the outage.
    const duringOutage = send(2);
    await kafka.resume();
    const back = Date.now();
    await duringOutage;
    await send(3);

    expect(await arrival(3, back)).toBeLessThanOrEqual(5000);
    expect(numbers()).toEqual([1, 2, 3]);
    expect(stream.opens).toBe(1);
    await waitFor(async () => (await readiness()) === 200, 'readiness after the outage', 30_000);
  }, 150_000);

  it('should be back within 5 s of the broker also after an outage long enough to stop the consumer', async () => {
    await kafka.pause();
    // Long enough for kafkajs to give up and the consumer to be replaced, again and again.
    await waitFor(
      async () => {
        const answer = await fetch(`${gateway.url}/health/ready`);
        return JSON.stringify(await answer.json()).includes('stopped');
      },
      'the consumer to stop',
      90_000,
    );
    const duringOutage = send(4);
    await kafka.resume();
    const back = Date.now();
    await duringOutage;
    await send(5);

    expect(await arrival(5, back)).toBeLessThanOrEqual(5000);
    expect(numbers()).toEqual([1, 2, 3, 4, 5]);
    // Kafka out of reach is every instance's problem: the stream stayed where it was.
    expect(stream!.opens).toBe(1);
    await waitFor(async () => (await readiness()) === 200, 'readiness after the outage', 30_000);
  }, 180_000);
});
