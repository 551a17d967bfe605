import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { useGatewaySuite } from './support/gateway-suite.js';
import { TestStream } from './support/sse-client.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { TEST_AUDIENCE, TEST_JWT_SECRET } from './support/tokens.js';

/**
 * The demo (DEMO_ENABLED=true) signs in anyone as anyone, so its tokens must be good for nothing
 * else: signed with a key of their own and for an audience of their own, never with JWT_SECRET.
 */
describe('The demo sign-in (e2e)', () => {
  // Blank is unset: the cookie gets the gateway's own default name.
  const suite = useGatewaySuite({ DEMO_ENABLED: 'true', AUTH_COOKIE_NAME: '' });
  const run = randomUUID().slice(0, 8);
  let other: TestGateway;

  beforeAll(async () => {
    other = await startTestGateway();
  });

  afterAll(() => other.close());

  async function signIn(user: string): Promise<{ token: string; setCookie: string }> {
    const response = await fetch(`${suite.gateway.url}/demo/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    });
    expect(response.status).toBe(201);
    const { token } = (await response.json()) as { token: string };
    return { token, setCookie: response.headers.get('set-cookie') ?? '' };
  }

  it('should serve the demo page', async () => {
    const page = await fetch(`${suite.gateway.url}/`);

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('should sign demo tokens with a key and an audience of their own, never with JWT_SECRET', async () => {
    const { token } = await signIn(`demo-${run}`);

    await expect(
      jwtVerify(token, new TextEncoder().encode(TEST_JWT_SECRET), { algorithms: ['HS256'] }),
    ).rejects.toThrow();
    expect(decodeJwt(token)).toMatchObject({ sub: `demo-${run}`, aud: 'kafka-sse-gateway:demo' });
    expect(decodeJwt(token).aud).not.toBe(TEST_AUDIENCE);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', typ: 'demo+jwt' });
  });

  it('should stream for a demo token on the demo gateway', async () => {
    const sub = `demo-stream-${run}`;
    const { token } = await signIn(sub);
    const stream = suite.track(
      new TestStream(`${suite.gateway.url}/events`, { headers: { authorization: `Bearer ${token}` } }),
    );
    await stream.waitForOpen();

    await suite.producer.send('notifications', [{ type: 'notification', data: { to: sub }, userId: sub }]);

    expect((await stream.waitForEvent((event) => event.type === 'notification')).data).toEqual({ to: sub });
  });

  it('should set the __Host- session cookie: secure, host-only, for the whole site', async () => {
    const { token, setCookie } = await signIn(`demo-cookie-${run}`);

    expect(setCookie).toMatch(new RegExp(`^__Host-access_token=${token.replace(/\./g, '\\.')};`));
    expect(setCookie).toMatch(/; Path=\/(;|$)/);
    expect(setCookie).toMatch(/; Secure(;|$)/);
    expect(setCookie).toMatch(/; HttpOnly(;|$)/);
    expect(setCookie).toMatch(/; SameSite=Strict(;|$)/);
    expect(setCookie).not.toMatch(/Domain=/i);
  });

  it('should have its tokens refused by a gateway without the demo, which shares the JWT_SECRET', async () => {
    const { token } = await signIn(`demo-elsewhere-${run}`);

    const response = await fetch(`${other.url}/events`, { headers: { authorization: `Bearer ${token}` } });

    expect(response.status).toBe(401);
    expect((await fetch(`${other.url}/demo/token`, { method: 'POST' })).status).toBe(404);
  });
});
