import { randomUUID } from 'node:crypto';
import { StreamTicketService } from '../src/auth/stream-ticket.service.js';
import { RawStream, TestStream } from './support/sse-client.js';
import { useGatewaySuite } from './support/gateway-suite.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken, unsignedToken, TEST_JWT_SECRET } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

describe('Authentication and topic access (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const user = (name: string) => `${name}-${run}`;

  const suite = useGatewaySuite({ TICKET_TTL_SECONDS: '5' });

  async function expectDelivery(sub: string, stream: TestStream): Promise<void> {
    suite.track(stream);
    await stream.waitForOpen();
    await suite.producer.send('notifications', [{ type: 'notification', data: { to: sub }, userId: sub }]);
    const event = await stream.waitForEvent((received) => received.type === 'notification');
    expect(event.data).toEqual({ to: sub });
  }

  async function getEvents(init: { headers?: Record<string, string>; query?: string } = {}) {
    const response = await fetch(`${suite.gateway.url}/events${init.query ?? ''}`, {
      headers: { accept: 'text/event-stream', ...init.headers },
    });
    const body: unknown = response.headers.get('content-type')?.includes('application/json')
      ? await response.json()
      : await response.text();
    return { status: response.status, body, contentType: response.headers.get('content-type') };
  }

  describe('accepted credentials', () => {
    it('should stream with an Authorization bearer token', async () => {
      const token = await signToken({ sub: user('bearer') });
      await expectDelivery(
        user('bearer'),
        new TestStream(`${suite.gateway.url}/events`, { headers: { authorization: `Bearer ${token}` } }),
      );
    });

    it('should stream with the HttpOnly cookie an EventSource sends withCredentials', async () => {
      const token = await signToken({ sub: user('cookie') });
      await expectDelivery(
        user('cookie'),
        new TestStream(`${suite.gateway.url}/events`, { headers: { cookie: `other=1; session=${token}` } }),
      );
    });

    it('should trade a bearer token for a short-lived ticket and stream with ?ticket=', async () => {
      const token = await signToken({ sub: user('ticket') });
      const response = await fetch(`${suite.gateway.url}/events/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(201);
      const { ticket, expiresIn } = (await response.json()) as { ticket: string; expiresIn: number };
      expect(expiresIn).toBe(5);
      await expectDelivery(
        user('ticket'),
        new TestStream(`${suite.gateway.url}/events?ticket=${encodeURIComponent(ticket)}`),
      );
    });
  });

  describe('rejected credentials: JSON 401 before any stream starts', () => {
    const cases: Array<[string, () => Promise<Record<string, string>>, string]> = [
      [
        'no credentials',
        () => Promise.resolve({}),
        'Missing credentials: a bearer token, a ticket or a cookie',
      ],
      [
        'a bad signature',
        async () => bearer(await signToken({ secret: `${TEST_JWT_SECRET}-but-another` })),
        'Invalid token',
      ],
      ['an expired token', async () => bearer(await signToken({ expiresIn: -60 })), 'Token expired'],
      ['a token not valid yet', async () => bearer(await signToken({ notBefore: 120 })), 'Invalid token'],
      [
        'a wrong audience',
        async () => bearer(await signToken({ audience: 'someone-else' })),
        'Invalid token',
      ],
      [
        'a wrong issuer',
        async () => bearer(await signToken({ issuer: 'https://evil.test' })),
        'Invalid token',
      ],
      ['alg: none', () => Promise.resolve(bearer(unsignedToken())), 'Invalid token'],
      [
        'a malformed Authorization header',
        () => Promise.resolve({ authorization: 'Basic YWxpY2U6cGFzcw==' }),
        'Authorization must be "Bearer <token>"',
      ],
      [
        'an expired cookie',
        async () => ({ cookie: `session=${await signToken({ expiresIn: -60 })}` }),
        'Token expired',
      ],
    ];

    it.each(cases)('should answer 401 for %s', async (_, headers, message) => {
      const answer = await getEvents({ headers: await headers() });
      expect(answer).toEqual({
        status: 401,
        contentType: expect.stringContaining('application/json'),
        body: { statusCode: 401, error: 'Unauthorized', message },
      });
    });

    it('should not take a ticket as a bearer token, nor a token as a ticket', async () => {
      const token = await signToken({ sub: user('confused') });
      const { ticket } = await suite.gateway.app
        .get(StreamTicketService)
        .issue({ id: user('confused'), topics: undefined, expiresAt: Date.now() + 60_000 });

      expect((await getEvents({ headers: bearer(ticket) })).status).toBe(401);
      expect((await getEvents({ query: `?ticket=${token}` })).body).toMatchObject({
        statusCode: 401,
        message: 'Invalid ticket',
      });
    });

    it('should refuse a ticket once it has expired', async () => {
      // A ticket never outlives the token it was issued for: this one lasts a second.
      const { ticket } = await suite.gateway.app
        .get(StreamTicketService)
        .issue({ id: user('late'), topics: undefined, expiresAt: Date.now() + 1000 });
      const expiresAt = JSON.parse(Buffer.from(ticket.split('.')[1]!, 'base64url').toString()).exp * 1000;

      await waitFor(() => Date.now() >= expiresAt, 'the ticket to expire', 5000);
      const answer = await getEvents({ query: `?ticket=${ticket}` });

      expect(answer.body).toMatchObject({ statusCode: 401, message: 'Ticket expired' });
    });

    it('should mint tickets for bearer tokens only', async () => {
      const token = await signToken({ sub: user('cookie-ticket') });
      const response = await fetch(`${suite.gateway.url}/events/tickets`, {
        method: 'POST',
        headers: { cookie: `session=${token}` },
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ message: 'Missing bearer token' });
    });
  });

  describe('topic access', () => {
    it('should answer 400 for an unknown topic', async () => {
      const answer = await getEvents({ headers: bearer(await signToken()), query: '?topics=orders,nope' });
      expect(answer).toMatchObject({
        status: 400,
        body: { statusCode: 400, message: 'Unknown topic(s): "nope"' },
      });
    });

    it('should answer 403 for a topic outside the token topics claim', async () => {
      const answer = await getEvents({
        headers: bearer(await signToken({ topics: ['orders'] })),
        query: '?topics=orders,chat',
      });
      expect(answer).toMatchObject({
        status: 403,
        body: { statusCode: 403, message: 'Not allowed to read topic(s): chat' },
      });
    });
  });

  describe('the default cookie name', () => {
    let gateway: TestGateway;

    beforeAll(async () => {
      // Blank is unset: the gateway's own default, not the suite's `session`.
      gateway = await startTestGateway({ AUTH_COOKIE_NAME: '' });
    });

    afterAll(() => gateway.close());

    it('should read the __Host- cookie, which only the site itself can set', async () => {
      const sub = user('host-cookie');
      const stream = new TestStream(`${gateway.url}/events`, {
        headers: { cookie: `__Host-access_token=${await signToken({ sub })}` },
      });
      try {
        await stream.waitForOpen();
      } finally {
        stream.close();
      }
    });

    it('should not read a cookie without the prefix, which a sibling subdomain could plant', async () => {
      const response = await fetch(`${gateway.url}/events`, {
        headers: { cookie: `access_token=${await signToken({ sub: user('planted') })}` },
      });

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({
        message: 'Missing credentials: a bearer token, a ticket or a cookie',
      });
    });
  });

  it('should end the stream when the token expires, never later', async () => {
    const token = await signToken({ sub: user('expiring'), expiresIn: 2 });
    const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const raw = await RawStream.open(`${suite.gateway.url}/events`, bearer(token));
    suite.track(raw);
    expect(raw.response.status).toBe(200);

    await raw.waitForEnd(10_000);
    expect(raw.endedAt).toBeGreaterThanOrEqual(expiresAt - 20);
  });
});

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
