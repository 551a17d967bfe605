import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { useGatewaySuite } from './support/gateway-suite.js';
import { TestStream } from './support/sse-client.js';
import { TEST_TOPICS } from './support/test-topics.mjs';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './support/tokens.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's commands as `npm run <name> --` would, with `env` only. */
function command(
  script: 'publish' | 'token',
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    // No PORT, so a demo running on this machine is never picked up.
    const child = spawn(process.execPath, [`scripts/${script}.mjs`, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (text: string) => text.trim().split('\n');

/** `npm run publish` and `npm run token`: a person at a terminal gets one plain line, never a stack. */
describe('The publish and token commands (e2e)', () => {
  const suite = useGatewaySuite();
  const run = randomUUID().slice(0, 8);
  const kafka = () => ({
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    KAFKA_TOPICS: TEST_TOPICS.join(','),
  });
  const signing = { JWT_SECRET: TEST_JWT_SECRET, JWT_AUDIENCE: TEST_AUDIENCE, JWT_ISSUER: TEST_ISSUER };

  it.each(['publish', 'token'] as const)('should print its usage for %s --help', async (script) => {
    const { code, stdout, stderr } = await command(script, ['--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: npm run (-s )?${script} --`));
    expect(stderr).toBe('');
  });

  it.each([
    [
      'publish',
      ['--user', 'alice', 'stray'],
      "Unexpected argument 'stray'. This command does not take positional arguments (see --help)",
    ],
    ['publish', ['--nope'], "Unknown option '--nope' (see --help)"],
    [
      'publish',
      ['--user', 'alice', '--data', '{x'],
      `--data must be JSON, e.g. --data '{"x":1}' or --data '"text"'`,
    ],
    [
      'token',
      ['--user', 'alice', 'stray'],
      "Unexpected argument 'stray'. This command does not take positional arguments (see --help)",
    ],
    ['token', ['--user', 'alice', '--ttl', 'soon'], '--ttl soon: use a duration such as 90s, 10m, 2h or 1d'],
  ] as const)('should answer %s %j with one line and no stack', async (script, args, message) => {
    const { code, stdout, stderr } = await command(script, [...args], { ...kafka(), ...signing });

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(lines(stderr)).toEqual([message]);
  });

  it.each(['error', 'checkpoint'])(
    'should refuse the reserved type %s before sending, as the gateway would drop it',
    async (type) => {
      const { code, stdout, stderr } = await command('publish', ['--user', 'alice', '--type', type], kafka());

      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(lines(stderr)).toEqual([
        'The gateway would not deliver this event: type is reserved: checkpoint, error, open and reset are the gateway’s own.',
      ]);
    },
  );

  it('should name the topics that exist when the topic does not', async () => {
    const { code, stderr } = await command(
      'publish',
      ['--user', 'alice', '--topic', `missing-${run}`],
      kafka(),
    );

    expect(code).toBe(2);
    expect(lines(stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Topic missing-${run} does not exist in Kafka at \\S+ \\(KAFKA_BROKERS\\)\\. Topics there: .*\\bchat, .*\\borders\\b`,
        ),
      ),
    ]);
  });

  it('should publish an event the gateway delivers, saying one line and nothing of kafkajs', async () => {
    const user = `publish-${run}`;
    const stream = suite.track(
      new TestStream(`${suite.gateway.url}/events?topics=orders`, {
        headers: {
          authorization: `Bearer ${(await command('token', ['--user', user], signing)).stdout.trim()}`,
        },
      }),
    );
    await stream.waitForOpen();

    const published = await command(
      'publish',
      ['--user', user, '--topic', 'orders', '--type', 'order.created', '--data', '{"orderId":"o-17"}'],
      kafka(),
    );

    expect(published.stderr).toBe('');
    expect(lines(published.stdout)).toEqual([
      expect.stringMatching(new RegExp(`^Published order\\.created for ${user} to orders/\\d+/\\d+$`)),
    ]);
    expect((await stream.waitForEvent((event) => event.type === 'order.created')).data).toEqual({
      orderId: 'o-17',
    });
  });

  it('should sign, with JWT_SECRET, a token that opens only its topics and lasts its --ttl', async () => {
    const { code, stdout, stderr } = await command(
      'token',
      ['--user', 'alice', '--topics', 'chat', '--ttl', '10m'],
      signing,
    );
    const token = stdout.trim();

    expect([code, stderr]).toEqual([0, '']);
    expect(lines(stdout)).toHaveLength(1);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'alice', aud: TEST_AUDIENCE, iss: TEST_ISSUER, topics: ['chat'] });
    expect(claims.exp! - claims.iat!).toBe(600);
    const headers = { authorization: `Bearer ${token}` };
    expect((await fetch(`${suite.gateway.url}/events?topics=orders`, { headers })).status).toBe(403);
  });

  it('should grant publishing with --publish, which POST /events accepts', async () => {
    const token = (await command('token', ['--user', `service-${run}`, '--publish'], signing)).stdout.trim();

    const response = await fetch(`${suite.gateway.url}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'hello', data: { x: 1 }, userId: 'alice' }),
    });

    expect(response.status).toBe(201);
  });

  it('should say where a key comes from when there is none', async () => {
    const { code, stdout, stderr } = await command('token', ['--user', 'alice']);

    expect([code, stdout]).toEqual([1, '']);
    expect(lines(stderr)).toEqual([
      'No key to sign with: start `npm run demo` first, or set JWT_SECRET and JWT_AUDIENCE.',
    ]);
  });
});
