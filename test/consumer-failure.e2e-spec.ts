import { randomUUID } from 'node:crypto';
import { EmbeddedKafka } from '../scripts/embedded-kafka.mjs';
import { ensureTopics } from '../scripts/kafka-topics.mjs';
import { startProductionBuild, type Exit, type ProductionBuild } from './support/production-build.js';
import { RawStream } from './support/sse-client.js';
import { signToken, TEST_AUDIENCE } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/**
 * A consumer that stops and cannot be replaced: readiness fails at once, and once
 * KAFKA_RECOVERY_TIMEOUT_MS has passed the process ends its streams with a resume point and exits
 * non-zero, so that its orchestrator starts another. A broker of its own, stopped for good.
 */
describe('A Kafka consumer that cannot be replaced (e2e)', () => {
  let kafka: EmbeddedKafka;
  let gateway: ProductionBuild | undefined;
  let exit: Exit | undefined;

  beforeAll(async () => {
    kafka = await EmbeddedKafka.start();
    await ensureTopics(kafka.brokers, ['notifications'], 1);
  }, 120_000);

  afterAll(async () => {
    if (gateway && !exit) await gateway.stop();
    await kafka?.stop();
  }, 60_000);

  it('should fail readiness, end its streams with a resume point and exit non-zero', async () => {
    const secret = `failure-secret-${randomUUID()}`;
    gateway = startProductionBuild({
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPICS: 'notifications',
      KAFKA_RECOVERY_TIMEOUT_MS: '2000',
      JWT_SECRET: secret,
      JWT_AUDIENCE: TEST_AUDIENCE,
      HOST: '127.0.0.1',
      PORT: '0',
    });
    void gateway.exited.then((exited) => (exit = exited));
    const url = await gateway.listening();
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 'readiness', 30_000);
    const stream = await RawStream.open(`${url}/events`, {
      authorization: `Bearer ${await signToken({ sub: 'failure', secret })}`,
    });
    expect(stream.response.status).toBe(200);

    await kafka.pause();
    const notReady = await waitFor(
      async () => {
        const answer = await fetch(`${url}/health/ready`).catch(() => undefined);
        return answer?.status === 503 && ((await answer.json()) as { error: unknown });
      },
      'readiness to fail',
      30_000,
    );
    expect(JSON.stringify(notReady)).toContain('Kafka');

    const { code } = await waitFor(() => exit, 'the process to exit', 90_000);
    expect(code).toBe(1);
    await stream.waitForEnd();
    expect(stream.text.trimEnd().split('\n\n').at(-1)).toMatch(
      /^event: checkpoint\nid: (?:@[\w.-]+|notifications=[\w-]+)\n(retry: \d+\n)?: shutdown\ndata: ?$/,
    );
    expect(gateway.output()).toContain('could not be replaced');
  }, 150_000);
});
