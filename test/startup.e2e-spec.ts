import { createServer } from 'node:net';
import { startProductionBuild, type ProductionBuild } from './support/production-build.js';
import { waitFor } from './support/wait-for.js';

const SECRET = 'a-production-build-secret-of-32-bytes!';
const EXIT_DEADLINE_MS = 20_000;

/** Its exit code once it exits on its own; a gateway still running after the deadline is stopped. */
async function exitCodeOf(app: ProductionBuild): Promise<number | null | 'still running'> {
  const exit = await app.exitWithin(EXIT_DEADLINE_MS);
  if (exit) return exit.code;
  await app.stop();
  return 'still running';
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A port nothing listens on: one the system just gave out and took back. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('The production build (e2e)', () => {
  it('should say in one line, within 10 s, that Kafka is unreachable, naming KAFKA_BROKERS and the address', async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    const app = startProductionBuild({ KAFKA_BROKERS: broker, JWT_SECRET: SECRET, JWT_AUDIENCE: 'gateway' });

    const exit = await app.exitWithin(10_000);
    if (!exit) await app.kill();

    expect(exit?.code).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      `Kafka is unreachable at ${broker} (KAFKA_BROKERS): Connection error: connect ECONNREFUSED ${broker}. Start it, or set KAFKA_BROKERS to a broker that answers.`,
    ]);
  });

  it('should name a missing topic in one line, with the command that creates it', async () => {
    const broker = process.env.KAFKA_BROKERS ?? '';
    const app = startProductionBuild({
      KAFKA_BROKERS: broker,
      KAFKA_TOPICS: 'notifications,no-such-topic',
      JWT_SECRET: SECRET,
      JWT_AUDIENCE: 'gateway',
    });

    expect(await exitCodeOf(app)).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      `KAFKA_TOPICS: topic no-such-topic does not exist in Kafka at ${broker}. Create it: kafka-topics.sh --bootstrap-server ${broker} --create --topic no-such-topic --partitions 3`,
    ]);
  });

  it('should log as it starts, not all at once when it is up', async () => {
    const app = startProductionBuild({
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      JWT_SECRET: SECRET,
      JWT_AUDIENCE: 'gateway',
      HOST: '127.0.0.1',
      PORT: '0',
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      await app.listening();
      const lines = jsonLines(app.stdout());
      const loaded = lines.find((line) => String(line['msg']).endsWith('dependencies initialized'));
      const joined = lines.find((line) => String(line['msg']).startsWith('Consumer has joined the group'));

      // Lines held back until start-up ends all carry the time they were finally written.
      expect(Number(loaded?.['time'])).toBeLessThan(Number(joined?.['time']));
    } finally {
      await app.stop();
    }
  });

  it('should refuse bad configuration with one message naming every problem', async () => {
    const app = startProductionBuild({
      KAFKA_BROKERS: 'localhost',
      KAFKA_TOPICS: 'bad topic!',
      PORT: '99999',
    });

    expect(await exitCodeOf(app)).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  - PORT: Too big: expected number to be <=65535',
      '  - KAFKA_BROKERS.0: each broker must be host:port',
      '  - KAFKA_TOPICS.0: topic names use only letters, digits, ".", "_" and "-"',
      '  - JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: set exactly one of them to verify tokens',
      '  - JWT_AUDIENCE: required, so that tokens issued for other clients cannot open streams; set JWT_AUDIENCE_OPTIONAL=true to accept any audience',
    ]);
  });

  it('should refuse a dead-letter topic it consumes, which would copy invalid records back to itself forever', async () => {
    const app = startProductionBuild({
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      KAFKA_TOPICS: 'notifications,orders',
      KAFKA_DEAD_LETTER_TOPIC: 'orders',
      JWT_SECRET: SECRET,
      JWT_AUDIENCE: 'gateway',
    });

    expect(await exitCodeOf(app)).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  - KAFKA_DEAD_LETTER_TOPIC: must not be one of KAFKA_TOPICS, or invalid records would be copied back to the gateway forever',
    ]);
  });

  it('should refuse every unsafe setting under NODE_ENV=production, naming each in one message', async () => {
    const app = startProductionBuild({
      NODE_ENV: 'production',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      JWT_JWKS_URL: 'http://idp.internal/.well-known/jwks.json',
      TICKET_SECRET: 'a-ticket-secret-of-at-least-32-characters',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'gateway',
      KAFKA_SASL_PASSWORD: 'kafka-password',
      DEMO_ENABLED: 'true',
    });

    expect(await exitCodeOf(app)).toBe(1);
    expect(app.output().trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  - JWT_AUDIENCE: required, so that tokens issued for other clients cannot open streams; set JWT_AUDIENCE_OPTIONAL=true to accept any audience',
      '  - JWT_JWKS_URL: must be https, or the keys that verify tokens could be forged on the way; set ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true for local development',
      '  - KAFKA_SSL: must be true with SASL, or the Kafka credentials and events cross the network in clear text; set ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true for local development',
      '  - DEMO_ENABLED: refused under NODE_ENV=production: the demo signs in anyone as anyone',
      '  - MANAGEMENT_PORT: required under NODE_ENV=production, so that metrics, probes and docs stay off the public port; set MANAGEMENT_ON_PUBLIC_PORT=true to serve them on PORT',
    ]);
    expect(app.output()).not.toContain('kafka-password');
  });

  it('should start in production with the loudly named opt-ins, warning about each', async () => {
    const app = startProductionBuild({
      NODE_ENV: 'production',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      JWT_SECRET: SECRET,
      JWT_AUDIENCE_OPTIONAL: 'true',
      MANAGEMENT_ON_PUBLIC_PORT: 'true',
      HOST: '127.0.0.1',
      PORT: '0',
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      const url = await app.listening();
      expect((await fetch(`${url}/health/live`)).status).toBe(200);

      const warnings = jsonLines(app.stdout())
        .filter((line) => line['level'] === 40)
        .map((line) => String(line['msg']));
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringContaining('JWT_AUDIENCE_OPTIONAL=true') as unknown,
          expect.stringContaining('MANAGEMENT_ON_PUBLIC_PORT=true') as unknown,
        ]),
      );
    } finally {
      await app.stop();
    }
  });

  it('should start, serve its probes and metrics on the management port only, and stop on SIGTERM within the shutdown bound', async () => {
    const app = startProductionBuild({
      NODE_ENV: 'production',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      KAFKA_TOPICS: 'notifications',
      JWT_SECRET: SECRET,
      JWT_AUDIENCE: 'gateway',
      HOST: '127.0.0.1',
      PORT: '0',
      MANAGEMENT_PORT: '0',
      SHUTDOWN_DELAY_MS: '500',
    });
    try {
      const url = await app.listening();
      const management = app.managementUrl()!;
      expect(management).not.toBe(url);
      expect((await fetch(`${management}/health/live`)).status).toBe(200);
      await waitFor(async () => (await fetch(`${management}/health/ready`)).status === 200, 'readiness');
      expect((await fetch(`${management}/metrics`)).status).toBe(200);
      for (const path of ['/health/live', '/health/ready', '/metrics', '/docs'])
        expect([path, (await fetch(`${url}${path}`)).status]).toEqual([path, 404]);

      const beforeStop = app.output().length;
      const { signal } = await app.stop();
      // The gateway closes, then re-raises the signal, so the process ends by it, as is customary.
      expect(signal).toBe('SIGTERM');
      expect(app.output().slice(beforeStop)).not.toMatch(/Shutdown took longer|ERROR|"level":50/);
    } finally {
      await app.stop();
    }
  }, 60_000);
});
