import { randomUUID } from 'node:crypto';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { startProductionBuild, type ProductionBuild } from './support/production-build.js';
import { RawStream } from './support/sse-client.js';
import { signToken, TEST_AUDIENCE } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/**
 * What the production build writes to its logs while it serves streams by every credential, mints
 * tickets and takes valid and invalid records: JSON lines, one line when a stream opens and one
 * when it closes, and never a credential or a payload.
 */

const JWT_SECRET = `logs-secret-${randomUUID()}`;

interface Gateway {
  readonly url: string;
  stdout(): string;
  /** SIGTERM, then everything it wrote. */
  stop(): Promise<{ stdout: string; stderr: string }>;
}

/** Every build a test started, stopped after it even when it fails. */
const started: ProductionBuild[] = [];

async function startBuild(env: Record<string, string>): Promise<Gateway> {
  const build = startProductionBuild(env);
  started.push(build);
  const url = await build.listening();
  await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 'readiness', 30_000);
  return {
    url,
    stdout: build.stdout,
    stop: async () => {
      await build.stop();
      return { stdout: build.stdout(), stderr: build.stderr() };
    },
  };
}

async function mintTicket(
  url: string,
  token: string,
  headers: Record<string, string> = {},
  query = '',
): Promise<string> {
  const response = await fetch(`${url}/events/tickets${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { ticket: string }).ticket;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('Logs of the production build (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const deadLetterTopic = `logs-dead-letters-${run}`;
  let producer: TestProducer;
  let env: Record<string, string>;

  beforeAll(async () => {
    await ensureTopics(splitList(process.env.KAFKA_BROKERS), [deadLetterTopic], 1);
    producer = await createTestProducer();
    env = {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      KAFKA_TOPICS: 'notifications,orders,chat',
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      // No history: the other suites' invalid records on the shared broker would be logged too.
      REPLAY_WINDOW_MS: '0',
      JWT_SECRET,
      JWT_AUDIENCE: TEST_AUDIENCE,
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '0',
      PORT: '0',
      LOG_FORMAT: 'json',
    };
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((build) => build.stop()));
  });

  afterAll(async () => {
    await producer.close();
  });

  it('should log streams by every credential as JSON lines, once at open and once at close, and never a secret', async () => {
    const gateway = await startBuild({ ...env, LOG_LEVEL: 'debug' });
    const users = { bearer: `log-bearer-${run}`, cookie: `log-cookie-${run}`, ticket: `log-ticket-${run}` };
    const tokens = {
      bearer: await signToken({ sub: users.bearer, secret: JWT_SECRET }),
      cookie: await signToken({ sub: users.cookie, secret: JWT_SECRET }),
      ticket: await signToken({ sub: users.ticket, secret: JWT_SECRET }),
    };
    const minted = await fetch(`${gateway.url}/events/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.ticket}` },
    });
    expect(minted.status).toBe(201);
    const { ticket } = (await minted.json()) as { ticket: string };
    const secrets = {
      bearer: `payload-secret-${randomUUID()}`,
      cookie: `payload-secret-${randomUUID()}`,
      ticket: `payload-secret-${randomUUID()}`,
      invalid: `invalid-secret-${randomUUID()}`,
      unparsable: `unparsable-secret-${randomUUID()}`,
    };

    // Query keys are decoded before they are read: `%74icket` is `ticket` to the gateway.
    const elsewhere = await signToken({ sub: `log-elsewhere-${run}`, secret: JWT_SECRET });
    const disguised = {
      stream: await mintTicket(gateway.url, elsewhere),
      query: await mintTicket(gateway.url, elsewhere),
    };
    const sideDoor = await RawStream.open(
      `${gateway.url}/events/?topics=chat&%74icket=${encodeURIComponent(disguised.stream)}`,
    );
    expect(sideDoor.response.status).toBe(200);
    sideDoor.close();
    // Credentials where none belong are redacted all the same, by the name the query parser reads.
    await mintTicket(gateway.url, elsewhere, {}, `?%74icket=${encodeURIComponent(disguised.query)}`);
    await mintTicket(gateway.url, elsewhere, {}, `?TOKEN=${tokens.bearer}&%61ccess_token=${tokens.cookie}`);
    // A client's own request id is taken only when it is short and plain.
    const requestIds = ['req-1.ok_2', 'forged" "level":60', 'x'.repeat(129), 'spaced id'];
    for (const id of requestIds) await mintTicket(gateway.url, elsewhere, { 'x-request-id': id });

    const streams = {
      bearer: await RawStream.open(`${gateway.url}/events?topics=orders`, {
        authorization: `Bearer ${tokens.bearer}`,
      }),
      cookie: await RawStream.open(`${gateway.url}/events`, {
        cookie: `theme=dark; __Host-access_token=${tokens.cookie}`,
      }),
      ticket: await RawStream.open(
        `${gateway.url}/events?topics=orders,chat&ticket=${encodeURIComponent(ticket)}`,
      ),
    };
    for (const stream of Object.values(streams)) expect(stream.response.status).toBe(200);
    await producer.sendRaw('orders', [
      JSON.stringify({ type: 'order.created', data: { note: secrets.invalid } }),
      `{"type":"order.created","data":"${secrets.unparsable}"`,
    ]);
    await producer.send(
      'orders',
      (['bearer', 'cookie', 'ticket'] as const).map((who) => ({
        type: 'order.created',
        data: { note: secrets[who] },
        userId: users[who],
      })),
    );
    for (const who of ['bearer', 'cookie', 'ticket'] as const)
      await streams[who].waitForText(new RegExp(secrets[who]), `the ${who} stream's event`);
    Object.values(streams).forEach((stream) => stream.close());
    await waitFor(
      () => jsonLines(gateway.stdout()).filter((line) => line['msg'] === 'stream closed').length >= 3,
      'three stream closed lines',
    );
    const { stdout, stderr } = await gateway.stop();

    const output = stdout + stderr;
    const signatures = [...Object.values(tokens), ticket].map((token) => token.split('.')[2]!);
    for (const secret of [
      ...Object.values(tokens),
      ticket,
      elsewhere,
      ...Object.values(disguised),
      ...signatures,
      ...Object.values(secrets),
      JWT_SECRET,
    ])
      expect([secret, output.includes(secret)]).toEqual([secret, false]);
    const lines = jsonLines(stdout);
    expect(lines.length).toBeGreaterThan(10);
    const urls = lines.map((line) => (line['req'] as { url?: string } | undefined)?.url);
    expect(urls).toEqual(
      expect.arrayContaining([
        '/events/tickets?%74icket=[redacted]',
        '/events/tickets?TOKEN=[redacted]&%61ccess_token=[redacted]',
      ]),
    );
    const ticketIds = lines
      .filter((line) => (line['req'] as { url?: string } | undefined)?.url === '/events/tickets')
      .map((line) => (line['req'] as { id: string }).id);
    expect(ticketIds).toContain('req-1.ok_2');
    for (const id of requestIds.slice(1)) expect(ticketIds).not.toContain(id);
    expect(ticketIds.filter((id) => /^[0-9a-f-]{36}$/.test(id)).length).toBeGreaterThanOrEqual(3);
    for (const line of lines)
      expect(line).toMatchObject({
        level: expect.any(Number),
        time: expect.any(Number),
        msg: expect.any(String),
      });
    // The invalid records are logged, by position and reason only: one line per batch.
    const skipped = lines
      .map((line) => /^Skipped invalid records of orders\/\d+: (.*)$/.exec(line['msg'] as string)?.[1])
      .filter((summary) => summary !== undefined)
      .flatMap((summary) => summary.split('; '));
    expect(skipped.map((part) => part.replace(/ at \d+$/, '')).sort()).toEqual([
      'bad-addressing',
      'not-json',
    ]);

    for (const [who, user] of Object.entries(users)) {
      const opened = lines.filter((line) => line['msg'] === 'stream opened' && line['user'] === user);
      const closed = lines.filter((line) => line['msg'] === 'stream closed' && line['user'] === user);
      expect([who, opened.length, closed.length]).toEqual([who, 1, 1]);
      expect(opened[0]).toMatchObject({ user, connectionId: expect.any(String), topics: expect.any(Array) });
      expect(closed[0]).toMatchObject({
        user,
        connectionId: opened[0]!['connectionId'],
        topics: opened[0]!['topics'],
        durationMs: expect.any(Number),
        eventsSent: 1,
        reason: 'client',
      });
    }
    expect(
      lines.find((line) => line['user'] === users.bearer && line['msg'] === 'stream opened')?.['topics'],
    ).toEqual(['orders']);
  }, 90_000);

  it('should not write a line per event at the default level', async () => {
    const gateway = await startBuild({ ...env, LOG_LEVEL: 'info' });
    const user = `log-quiet-${run}`;
    const type = `quiet-type-${run}`;
    const stream = await RawStream.open(`${gateway.url}/events?topics=chat`, {
      authorization: `Bearer ${await signToken({ sub: user, secret: JWT_SECRET })}`,
    });
    await producer.send(
      'chat',
      Array.from({ length: 20 }, (_, n) => ({
        type,
        data: { n },
        ...(n % 2 ? { userId: user } : { broadcast: true }),
      })),
    );
    await stream.waitForText(/"n":19/, 'the last event');
    stream.close();
    await waitFor(() => gateway.stdout().includes('stream closed'), 'the stream closed line');
    const { stdout, stderr } = await gateway.stop();

    expect(jsonLines(stdout).length).toBeGreaterThan(0);
    expect((stdout + stderr).includes(type)).toBe(false);
    expect(
      jsonLines(stdout)
        .filter((line) => line['user'] === user)
        .map((line) => line['msg']),
    ).toEqual(['stream opened', 'stream closed']);
  }, 90_000);
});
