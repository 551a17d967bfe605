import { startProductionBuild } from './support/production-build.js';
import { waitFor } from './support/wait-for.js';

describe('The production build (e2e)', () => {
  it('should refuse bad configuration with one message naming every problem', async () => {
    const app = startProductionBuild({
      KAFKA_BROKERS: 'localhost',
      KAFKA_TOPICS: 'bad topic!',
      PORT: '99999',
    });
    const { code } = await app.exited;

    expect(code).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  - PORT: Too big: expected number to be <=65535',
      '  - KAFKA_BROKERS.0: each broker must be host:port',
      '  - KAFKA_TOPICS.0: topic names use only letters, digits, ".", "_" and "-"',
      '  - JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: set exactly one of them to verify tokens',
    ]);
  });

  it('should refuse a dead-letter topic it consumes, which would copy invalid records back to itself forever', async () => {
    const app = startProductionBuild({
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      KAFKA_TOPICS: 'notifications,orders',
      KAFKA_DEAD_LETTER_TOPIC: 'orders',
      JWT_SECRET: 'a-production-build-secret-of-32-bytes!',
    });
    const { code } = await app.exited;

    expect(code).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  - KAFKA_DEAD_LETTER_TOPIC: must not be one of KAFKA_TOPICS, or invalid records would be copied back to the gateway forever',
    ]);
  });

  it('should start, answer its probes, and stop on SIGTERM within the shutdown bound', async () => {
    const app = startProductionBuild({
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      KAFKA_TOPICS: 'notifications',
      JWT_SECRET: 'a-production-build-secret-of-32-bytes!',
      HOST: '127.0.0.1',
      PORT: '0',
    });
    const url = await app.listening();
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 'readiness');

    const beforeStop = app.output().length;
    const { signal } = await app.stop();
    // Nest closes the app, then re-raises the signal, so the process ends by it, as is customary.
    expect(signal).toBe('SIGTERM');
    expect(app.output().slice(beforeStop)).not.toMatch(/Shutdown took longer|ERROR/);
  }, 60_000);
});
