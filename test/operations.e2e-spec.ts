import { randomUUID } from 'node:crypto';
import { probe, rawStatus } from './support/http-probe.js';
import { readRecord } from './support/kafka-reader.js';
import { TestStream } from './support/sse-client.js';
import { useGatewaySuite } from './support/gateway-suite.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/** Reads one sample from a Prometheus text exposition; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  const line = text
    .split('\n')
    .find((candidate) =>
      candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `)
        ? wanted.every((pair) => candidate.includes(pair))
        : false,
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('Operating surface: metrics, API docs, publish, probes (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const user = (name: string) => `${name}-${run}`;
  const scrape = async () => {
    const response = await fetch(`${suite.gateway.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  // One publish a second, in bursts of two: the rate test below reaches it, the others publish
  // as publishers of their own.
  const suite = useGatewaySuite({ PUBLISH_RATE_PER_SECOND: '1' });

  async function open(sub: string, lastEventId?: string): Promise<TestStream> {
    const stream = new TestStream(`${suite.gateway.url}/events?topics=orders`, {
      headers: { authorization: `Bearer ${await signToken({ sub })}` },
      ...(lastEventId === undefined ? {} : { lastEventId }),
    });
    suite.track(stream);
    await stream.waitForOpen();
    return stream;
  }

  describe('GET /metrics', () => {
    it('should move as streams open and close and events flow', async () => {
      const before = await scrape();
      const sub = user('metrics');
      const stream = await open(sub);
      const opened = await scrape();
      expect(sample(opened, 'sse_streams_open')).toBe(sample(before, 'sse_streams_open') + 1);
      expect(sample(opened, 'sse_streams_opened_total')).toBe(sample(before, 'sse_streams_opened_total') + 1);

      await suite.producer.sendRaw(
        'orders',
        ['{"broken"', JSON.stringify({ type: 'notification', data: 1, userId: sub })],
        1,
      );
      const event = await stream.waitForEvent((received) => received.type === 'notification');
      const flowed = await scrape();
      expect(sample(flowed, 'kafka_records_consumed_total', { topic: 'orders' })).toBeGreaterThanOrEqual(
        sample(before, 'kafka_records_consumed_total', { topic: 'orders' }) + 2,
      );
      expect(sample(flowed, 'kafka_records_invalid_total', { reason: 'not-json' })).toBe(
        sample(before, 'kafka_records_invalid_total', { reason: 'not-json' }) + 1,
      );
      expect(sample(flowed, 'sse_events_delivered_total')).toBeGreaterThan(
        sample(before, 'sse_events_delivered_total'),
      );
      expect(sample(flowed, 'sse_delivery_latency_seconds_count')).toBeGreaterThan(
        sample(before, 'sse_delivery_latency_seconds_count'),
      );
      expect(flowed).toMatch(/^kafka_consumer_lag\{topic="orders",partition="1"\} \d+$/m);
      expect(flowed).toMatch(/^process_cpu_user_seconds_total \d/m);

      stream.close();
      await waitFor(
        async () => sample(await scrape(), 'sse_streams_open') === sample(before, 'sse_streams_open'),
        'the gauge to drop',
      );
      const closed = await scrape();
      expect(sample(closed, 'sse_streams_closed_total', { reason: 'client' })).toBe(
        sample(before, 'sse_streams_closed_total', { reason: 'client' }) + 1,
      );

      const resumed = await open(sub, event.id);
      await open(user('garbage'), 'garbage');
      expect(resumed.resets).toEqual([]);
      const replayed = await scrape();
      expect(sample(replayed, 'sse_replays_total')).toBe(sample(before, 'sse_replays_total') + 1);
      expect(sample(replayed, 'sse_resets_total', { reason: 'malformed-id' })).toBe(
        sample(before, 'sse_resets_total', { reason: 'malformed-id' }) + 1,
      );
    });
  });

  describe('GET /docs', () => {
    it('should describe every HTTP endpoint and the SSE contract', async () => {
      const document = (await (await fetch(`${suite.gateway.url}/docs/json`)).json()) as {
        info: { description: string };
        paths: Record<string, Record<string, unknown>>;
      };

      expect(Object.keys(document.paths).sort()).toEqual([
        '/events',
        '/events/tickets',
        '/health/live',
        '/health/ready',
        '/metrics',
      ]);
      expect(Object.keys(document.paths['/events']!).sort()).toEqual(['get', 'post']);
      expect(document.info.description).toContain('event: reset');
      expect(document.info.description).toContain('Last-Event-ID');
      const page = await fetch(`${suite.gateway.url}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
    });
  });

  describe('POST /events', () => {
    const publish = (body: unknown, headers: Record<string, string>) =>
      fetch(`${suite.gateway.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const publisher = async (sub: string, topics?: string[]) => ({
      authorization: `Bearer ${await signToken({ sub, scope: 'events:publish other', ...(topics ? { topics } : {}) })}`,
    });

    it('should produce a valid event and answer where it was written; its stream receives it', async () => {
      const sub = user('published');
      const stream = await open(sub);
      const response = await publish(
        { topic: 'orders', type: 'notification', data: { via: 'http' }, userId: sub },
        await publisher(user('billing-service')),
      );

      expect(response.status).toBe(201);
      const written = (await response.json()) as { topic: string; partition: number; offset: string };
      expect(written).toEqual({
        topic: 'orders',
        partition: expect.any(Number) as number,
        offset: expect.stringMatching(/^\d+$/) as string,
      });
      const event = await stream.waitForEvent((received) => received.type === 'notification');
      expect(event.data).toEqual({ via: 'http' });
      expect(event.id.startsWith(`orders/${written.partition}/${written.offset};`)).toBe(true);
    });

    it("should write the publisher's subject in the x-gateway-publisher header of the record", async () => {
      const sub = user('header');
      const response = await publish(
        { topic: 'chat', type: 'notification', data: { n: 1 }, userId: sub },
        await publisher(user('header-service')),
      );
      expect(response.status).toBe(201);
      const written = (await response.json()) as { topic: string; partition: number; offset: string };

      const record = await readRecord('chat', written.partition, written.offset);

      expect(record.headers).toEqual({ 'x-gateway-publisher': user('header-service') });
      expect(record.key).toBe(sub);
      expect(JSON.parse(record.value!)).toEqual({ type: 'notification', data: { n: 1 }, userId: sub });
    });

    it("should let a publisher write only to the topics of its token's topics claim: 403 for the others", async () => {
      const event = { type: 'notification', data: 1, broadcast: true };
      const narrow = await publisher(user('narrow-service'), ['orders']);

      const elsewhere = await publish({ ...event, topic: 'chat' }, narrow);
      expect(elsewhere.status).toBe(403);
      expect(await elsewhere.json()).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: 'This token may not publish to topic(s): chat',
      });
      // The default topic is the first configured, notifications: outside the claim too.
      expect((await publish(event, narrow)).status).toBe(403);
      // Another publisher of the same claim: this one has had its burst.
      const narrowToo = await publisher(user('narrow-service-2'), ['orders']);
      expect((await publish({ ...event, topic: 'orders' }, narrowToo)).status).toBe(201);
    });

    it('should limit each publisher to PUBLISH_RATE_PER_SECOND with 429 and Retry-After, leaving others alone', async () => {
      const hasty = await publisher(user('hasty-service'));
      const bad = { topic: 'nope', type: 'notification', data: 1, broadcast: true };

      const answers = await Promise.all(Array.from({ length: 4 }, () => publish(bad, hasty)));

      expect(answers.map((answer) => answer.status).sort()).toEqual([400, 400, 429, 429]);
      const refused = answers.find((answer) => answer.status === 429)!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      const calm = await publish(
        { topic: 'orders', type: 'notification', data: 1, broadcast: true },
        await publisher(user('calm-service')),
      );
      expect(calm.status).toBe(201);
    });

    it('should answer 400 naming every problem of a bad body', async () => {
      const response = await publish(
        { topic: 'nope', type: 'reset', userId: 'a', broadcast: true },
        await publisher(user('careless-service')),
      );

      expect(response.status).toBe(400);
      const body = (await response.json()) as { message: string[] };
      expect(body.message).toEqual([
        'topic must be one of: notifications, orders, chat',
        'type is reserved: checkpoint, error, open and reset are the gateway’s own',
      ]);
    });

    it('should answer 403 without the publisher grant, and 401 without a bearer token', async () => {
      const event = { type: 'notification', data: 1, broadcast: true };
      expect(
        (await publish(event, { authorization: `Bearer ${await signToken({ sub: 'someone' })}` })).status,
      ).toBe(403);
      expect(
        (await publish(event, { cookie: `session=${await signToken({ sub: 'someone' })}` })).status,
      ).toBe(401);
    });
  });

  describe('GET /health', () => {
    it('should answer liveness and readiness in the terminus format', async () => {
      expect(await (await fetch(`${suite.gateway.url}/health/live`)).json()).toMatchObject({ status: 'ok' });
      await waitFor(
        async () => (await fetch(`${suite.gateway.url}/health/ready`)).status === 200,
        'readiness',
      );
    });
  });

  describe('with MANAGEMENT_PORT', () => {
    const managed = useGatewaySuite({ MANAGEMENT_PORT: '0' });
    const OPERATIONS = ['/metrics', '/health/live', '/health/ready', '/docs', '/docs/json'];

    it('should serve metrics, probes and docs on a port of their own', async () => {
      const { url, managementUrl } = managed.gateway;
      expect(new URL(managementUrl).port).not.toBe(new URL(url).port);

      for (const path of OPERATIONS)
        expect([path, (await fetch(`${managementUrl}${path}`)).status]).toEqual([path, 200]);
    });

    it('should answer 404 for them on the public port, however the path is written', async () => {
      const paths = [
        ...OPERATIONS,
        '/METRICS',
        '/metrics/',
        '/Health/Live',
        '/health/ready?verbose=1',
        '/docs/',
        '/docs/swagger-ui.css',
        '/docs/swagger-ui-init.js',
        '/DOCS/JSON',
      ];

      for (const path of paths) {
        const answer = await probe(`${managed.gateway.url}${path}`);
        expect([path, answer.status, answer.json]).toEqual([
          path,
          404,
          expect.objectContaining({ statusCode: 404, error: 'Not Found' }),
        ]);
      }
    });

    it('should refuse, with a 400, a request target that names them as an absolute URL on the public port', async () => {
      const { url } = managed.gateway;

      for (const path of OPERATIONS) {
        const status = await rawStatus(url, `GET http://gateway.test${path} HTTP/1.1`);
        expect([path, status]).toEqual([path, 400]);
      }
    });

    it('should serve neither streams, tickets, publishing nor the demo on the management port', async () => {
      const { managementUrl } = managed.gateway;
      const auth = { authorization: `Bearer ${await signToken({ sub: user('managed') })}` };

      expect((await probe(`${managementUrl}/events`, { headers: auth })).status).toBe(404);
      expect((await probe(`${managementUrl}/events`, { method: 'POST', headers: auth })).status).toBe(404);
      expect((await probe(`${managementUrl}/events/tickets`, { method: 'POST', headers: auth })).status).toBe(
        404,
      );
    });

    it('should still serve streams on the public port', async () => {
      const auth = { authorization: `Bearer ${await signToken({ sub: user('public') })}` };

      const answer = await probe(`${managed.gateway.url}/events`, { headers: auth });

      expect(answer.status).toBe(200);
      expect(answer.firstBlock?.[0]).toEqual({ name: 'event', value: 'checkpoint' });
    });
  });
});
