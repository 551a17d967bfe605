import { randomUUID } from 'node:crypto';
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

  const suite = useGatewaySuite();

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
    const publisher = async () => ({
      authorization: `Bearer ${await signToken({ sub: 'billing-service', scope: 'events:publish other' })}`,
    });

    it('should produce a valid event and answer where it was written; its stream receives it', async () => {
      const sub = user('published');
      const stream = await open(sub);
      const response = await publish(
        { topic: 'orders', type: 'notification', data: { via: 'http' }, userId: sub },
        await publisher(),
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

    it('should answer 400 naming every problem of a bad body', async () => {
      const response = await publish(
        { topic: 'nope', type: 'reset', userId: 'a', broadcast: true },
        await publisher(),
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
});
