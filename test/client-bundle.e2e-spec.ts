import { gzipSync } from 'node:zlib';
import { startProductionBuild } from './support/production-build.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/** The core client's budget, minified and gzipped. */
const BUDGET_BYTES = 7 * 1024;

/** GET /client.js: the browser client, as Socket.IO serves its own, for pages without a bundler. */
describe('The browser client served by the gateway (e2e)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  });

  afterAll(() => gateway?.close());

  it('should serve it as JavaScript with an ETag, to be revalidated on every use', async () => {
    const response = await fetch(`${gateway.url}/client.js`);
    const script = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, no-cache');
    expect(response.headers.get('etag')).toMatch(/^"[\w-]{27}"$/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(script).toMatch(/export\s*\{[^}]*\bconnect\b/);
    expect(script.trimEnd().endsWith('//# sourceMappingURL=client.js.map')).toBe(true);
  });

  it('should answer 304 without a body to a browser that has the current one', async () => {
    const etag = (await fetch(`${gateway.url}/client.js`)).headers.get('etag')!;

    const again = await fetch(`${gateway.url}/client.js`, { headers: { 'if-none-match': etag } });

    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await fetch(`${gateway.url}/client.js`, { headers: { 'if-none-match': '"old"' } })).status).toBe(
      200,
    );
  });

  it('should serve the source map beside it, with the sources in it', async () => {
    const response = await fetch(`${gateway.url}/client.js.map`);
    const map = (await response.json()) as { sources: string[]; sourcesContent: string[] };

    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toMatch(/^"[\w-]{27}"$/);
    expect(map.sources.some((source) => source.endsWith('src/event-client.ts'))).toBe(true);
    expect(map.sourcesContent).toHaveLength(map.sources.length);
  });

  it('should not exist with CLIENT_BUNDLE=false', async () => {
    const off = await startTestGateway({ CLIENT_BUNDLE: 'false' });
    try {
      for (const path of ['/client.js', '/client.js.map']) {
        const response = await fetch(`${off.url}${path}`);
        expect([path, response.status, response.headers.get('content-type')]).toEqual([
          path,
          404,
          'application/json; charset=utf-8',
        ]);
      }
    } finally {
      await off.close();
    }
  });

  it('should serve it in production without the demo, under the size budget', async () => {
    const app = startProductionBuild({
      NODE_ENV: 'production',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      JWT_SECRET: 'a-production-build-secret-of-32-bytes!',
      JWT_AUDIENCE: 'gateway',
      HOST: '127.0.0.1',
      PORT: '0',
      MANAGEMENT_PORT: '0',
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      const url = await app.listening();
      const response = await fetch(`${url}/client.js`);
      const script = Buffer.from(await response.arrayBuffer());

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(gzipSync(script, { level: 9 }).length).toBeLessThanOrEqual(BUDGET_BYTES);
      expect((await fetch(`${url}/`)).status).toBe(404);
    } finally {
      await app.stop();
    }
  }, 60_000);
});
