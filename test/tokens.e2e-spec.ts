import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { exportJWK, importPKCS8, SignJWT, type JWTPayload } from 'jose';
import { probe, type ProbeAnswer } from './support/http-probe.js';
import { useGatewaySuite } from './support/gateway-suite.js';
import { RawStream, TestStream } from './support/sse-client.js';
import { TEST_AUDIENCE, TEST_ISSUER } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/**
 * Token and ticket cases beyond test/auth.e2e-spec.ts, on a gateway that verifies RS256 access
 * tokens (`typ: at+jwt`) with a public key: algorithm confusion, forged and tampered tokens, tokens
 * issued for another client or of another type, claims that do not describe a user, and what a
 * ticket can and cannot carry.
 */

const TICKET_SECRET = 'x'.repeat(40);
const TICKET_TTL_SECONDS = 5;
const ACCESS_TOKEN_TYPE = 'at+jwt';

function rsaKeys(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicPem: publicKey, privatePem: privateKey };
}

const gatewayKeys = rsaKeys();
const attackerKeys = rsaKeys();

interface Claims extends JWTPayload {
  sub?: string;
}

/** A token with the suite's issuer and audience and 5 minutes to live, unless `claims` says else. */
function claimsFor(sub: string | undefined, claims: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    ...(sub === undefined ? {} : { sub }),
    iat: now,
    exp: now + 300,
    aud: TEST_AUDIENCE,
    iss: TEST_ISSUER,
    ...claims,
  };
}

async function rs256(
  claims: Claims,
  privatePem = gatewayKeys.privatePem,
  header: object = {},
): Promise<string> {
  const key = await importPKCS8(privatePem, 'RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: ACCESS_TOKEN_TYPE, ...header })
    .sign(key);
}

function hs256(claims: Claims, secret: string | Uint8Array, header: object = {}): Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(key);
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (part: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

/** The same token with its payload (or header) edited and the original signature kept. */
function tampered(token: string, edit: { payload?: object; header?: object }): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return [
    edit.header ? b64({ ...decode(header), ...edit.header }) : header,
    edit.payload ? b64({ ...decode(payload), ...edit.payload }) : payload,
    signature,
  ].join('.');
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('Tokens and tickets on an RS256 gateway (e2e)', () => {
  const suite = useGatewaySuite({
    JWT_SECRET: '',
    JWT_PUBLIC_KEY: gatewayKeys.publicPem,
    JWT_ALGORITHM: 'RS256',
    JWT_TYPE: ACCESS_TOKEN_TYPE,
    TICKET_SECRET,
    TICKET_TTL_SECONDS: String(TICKET_TTL_SECONDS),
  });
  const run = randomUUID().slice(0, 8);
  const user = (name: string) => `${name}-${run}`;

  const events = (query = '', headers: Record<string, string> = {}): Promise<ProbeAnswer> =>
    probe(`${suite.gateway.url}/events${query}`, { headers: { accept: 'text/event-stream', ...headers } });

  async function ticketFor(token: string): Promise<string> {
    const response = await fetch(`${suite.gateway.url}/events/tickets`, {
      method: 'POST',
      headers: bearer(token),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { ticket: string }).ticket;
  }

  async function open(query: string, headers: Record<string, string> = {}): Promise<TestStream> {
    const stream = new TestStream(`${suite.gateway.url}/events${query}`, { headers });
    suite.track(stream);
    await stream.waitForOpen();
    return stream;
  }

  /**
   * Sends one notification to each of `others`, then one to `owner`, on one partition: a stream
   * that belongs to `owner` gets only the last, and anything misrouted would have come first.
   */
  async function expectOwner(stream: TestStream, owner: string, others: string[]): Promise<void> {
    await suite.producer.send(
      'notifications',
      [...others, owner].map((to) => ({ type: 'notification', data: { to }, userId: to })),
      0,
    );
    await stream.waitForEvent(
      (event) => (event.data as { to: string }).to === owner,
      `the event for ${owner}`,
    );
    expect(stream.events.map((event) => event.data)).toEqual([{ to: owner }]);
  }

  it('should stream for an RS256 token signed with the configured key', async () => {
    const stream = await open('', bearer(await rs256(claimsFor(user('rs')))));

    await expectOwner(stream, user('rs'), [user('someone-else')]);
  });

  describe('forged and tampered tokens: JSON 401', () => {
    const cases: Array<[string, () => Promise<string>]> = [
      [
        'an HS256 token signed with the public key PEM as the secret',
        () => hs256(claimsFor('mallory'), gatewayKeys.publicPem),
      ],
      [
        'an HS256 token signed with the PEM without its final newline',
        () => hs256(claimsFor('mallory'), gatewayKeys.publicPem.trimEnd()),
      ],
      [
        'an HS256 token signed with the DER bytes of the public key',
        () =>
          hs256(
            claimsFor('mallory'),
            new Uint8Array(Buffer.from(gatewayKeys.publicPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')),
          ),
      ],
      ['an RS256 token signed with another key', () => rs256(claimsFor('mallory'), attackerKeys.privatePem)],
      [
        'an RS256 token signed with another key that it embeds as a jwk header',
        async () => {
          const jwk = await exportJWK(createPublicKey(attackerKeys.publicPem));
          return rs256(claimsFor('mallory'), attackerKeys.privatePem, { jwk });
        },
      ],
      [
        'an RS256 token signed with another key whose header names a key URL',
        () =>
          rs256(claimsFor('mallory'), attackerKeys.privatePem, {
            jku: 'https://evil.example/jwks.json',
            kid: 'evil',
          }),
      ],
      [
        'an unsigned token (alg: none)',
        () => Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsFor('mallory'))}.`),
      ],
      [
        'a valid token with its signature removed',
        async () => `${(await rs256(claimsFor('mallory'))).split('.').slice(0, 2).join('.')}.`,
      ],
      [
        'a valid token with sub changed in its payload',
        async () => tampered(await rs256(claimsFor(user('victim'))), { payload: { sub: 'mallory' } }),
      ],
      [
        'a valid token with exp pushed back in its payload',
        async () =>
          tampered(await rs256(claimsFor('mallory', { exp: Math.floor(Date.now() / 1000) - 60 })), {
            payload: { exp: Math.floor(Date.now() / 1000) + 3600 },
          }),
      ],
      [
        'a valid token with topics widened in its payload',
        async () =>
          tampered(await rs256(claimsFor('mallory', { topics: ['chat'] })), {
            payload: { topics: ['chat', 'orders', 'notifications'] },
          }),
      ],
      [
        'a valid token with its header switched to HS256',
        async () => tampered(await rs256(claimsFor('mallory')), { header: { alg: 'HS256' } }),
      ],
      [
        'a valid token with its header switched to none',
        async () => tampered(await rs256(claimsFor('mallory')), { header: { alg: 'none' } }),
      ],
      ['an HS256 token signed with the ticket secret', () => hs256(claimsFor('mallory'), TICKET_SECRET)],
      [
        'a stream ticket presented as a bearer token',
        async () => ticketFor(await rs256(claimsFor(user('ticket-as-bearer')))),
      ],
    ];

    it.each(cases)('should refuse %s', async (_, token) => {
      const answer = await events('', bearer(await token()));

      expect(answer.status).toBe(401);
      expect(answer.contentType).toContain('application/json');
      expect(answer.json).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Invalid token' });
    });

    it('should refuse the same forgeries as a cookie and for a ticket', async () => {
      for (const [, token] of cases.slice(0, 3)) {
        const forged = await token();
        expect((await events('', { cookie: `session=${forged}` })).status).toBe(401);
        const ticket = await fetch(`${suite.gateway.url}/events/tickets`, {
          method: 'POST',
          headers: bearer(forged),
        });
        expect([ticket.status, await ticket.json()]).toEqual([
          401,
          expect.objectContaining({ statusCode: 401 }),
        ]);
      }
    });
  });

  describe('tokens issued for another client, of another type, or at the edge of their validity', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const refused: Array<[string, () => Promise<string>]> = [
      [
        'an ID token the same identity provider issued to another client',
        () =>
          rs256(
            claimsFor('mallory', { aud: 'another-client', azp: 'another-client', nonce: 'n-1' }),
            undefined,
            {
              typ: 'JWT',
            },
          ),
      ],
      [
        'an access token the same identity provider issued for another audience',
        () => rs256(claimsFor('mallory', { aud: 'another-api' })),
      ],
      ['an access token without an audience', () => rs256(claimsFor('mallory', { aud: undefined }))],
      [
        'an ID token for this very audience, typed JWT rather than at+jwt',
        () => rs256(claimsFor('mallory', { nonce: 'n-2' }), undefined, { typ: 'JWT' }),
      ],
      ['a token without a typ header', () => rs256(claimsFor('mallory'), undefined, { typ: undefined })],
      ['a token not valid for another minute', () => rs256(claimsFor('mallory', { nbf: now() + 60 }))],
    ];

    it.each(refused)('should refuse %s', async (_, token) => {
      const answer = await events('', bearer(await token()));

      expect(answer).toMatchObject({
        status: 401,
        json: { statusCode: 401, error: 'Unauthorized', message: 'Invalid token' },
      });
    });

    it('should accept a token whose audience list includes the gateway', async () => {
      const stream = await open(
        '',
        bearer(await rs256(claimsFor(user('listed'), { aud: ['another-api', TEST_AUDIENCE] }))),
      );

      await expectOwner(stream, user('listed'), [user('not-listed')]);
    });

    it('should accept a token whose nbf is a second or two ahead, from an identity provider whose clock runs fast', async () => {
      const stream = await open('', bearer(await rs256(claimsFor(user('early'), { nbf: now() + 2 }))));

      await expectOwner(stream, user('early'), [user('not-early')]);
    });

    it('should refuse a token whose exp has just passed, with no tolerance: a stream never outlives exp', async () => {
      const answer = await events('', bearer(await rs256(claimsFor('mallory', { exp: now() - 1 }))));

      expect(answer).toMatchObject({ status: 401, json: { message: 'Token expired' } });
    });
  });

  describe('signed tokens whose claims do not describe a user: JSON 401', () => {
    const cases: Array<[string, Claims, string]> = [
      ['no sub', claimsFor(undefined), 'Invalid token'],
      ['an empty sub', claimsFor(''), 'Invalid token claims'],
      ['a sub with a line feed', claimsFor('alice\nlevel=error msg=forged'), 'Invalid token claims'],
      ['a sub with a NUL', claimsFor('alice\u0000'), 'Invalid token claims'],
      ['a sub over 256 characters', claimsFor('u'.repeat(257)), 'Invalid token claims'],
      ['a topics claim that is a string', claimsFor('alice', { topics: 'orders' }), 'Invalid token claims'],
      ['a topics claim with a number', claimsFor('alice', { topics: ['orders', 1] }), 'Invalid token claims'],
      ['no exp', (({ exp: _, ...claims }) => claims)(claimsFor('alice')), 'Invalid token'],
      [
        'an exp that is a string',
        claimsFor('alice', { exp: String(Math.floor(Date.now() / 1000) + 300) as never }),
        'Invalid token',
      ],
    ];

    it.each(cases)('should refuse %s', async (_, claims, message) => {
      const answer = await events('', bearer(await rs256(claims)));

      expect(answer).toMatchObject({ status: 401, json: { statusCode: 401, message } });
    });
  });

  describe('the topics claim', () => {
    it('should answer 403 for a topic the RS256 token does not allow', async () => {
      const token = await rs256(claimsFor(user('narrow'), { topics: ['orders'] }));

      const answer = await events('?topics=orders,chat', bearer(token));

      expect(answer).toMatchObject({
        status: 403,
        json: { statusCode: 403, message: 'Not allowed to read topic(s): chat' },
      });
    });

    it('should carry the claim into a ticket: 403 outside it, only its topics by default', async () => {
      const token = await rs256(claimsFor(user('narrow-ticket'), { topics: ['orders'] }));
      const ticket = await ticketFor(token);
      expect(decode(ticket.split('.')[1]!)['topics']).toEqual(['orders']);

      const refused = await events(`?topics=chat&ticket=${encodeURIComponent(ticket)}`);
      expect(refused).toMatchObject({ status: 403, json: { statusCode: 403 } });

      const stream = await open(`?ticket=${encodeURIComponent(await ticketFor(token))}`);
      await suite.producer.send(
        'chat',
        [{ type: 'notification', data: { on: 'chat' }, userId: user('narrow-ticket') }],
        0,
      );
      await suite.producer.send(
        'orders',
        [{ type: 'notification', data: { on: 'orders' }, userId: user('narrow-ticket') }],
        0,
      );
      await stream.waitForEvent((event) => (event.data as { on: string }).on === 'orders');
      // chat was produced first and routed before orders was even sent.
      expect(stream.events.map((event) => event.data)).toEqual([{ on: 'orders' }]);
    });
  });

  describe('tickets', () => {
    it("should stream as the ticket's user when a cookie of another user comes along", async () => {
      const ticket = await ticketFor(await rs256(claimsFor(user('ticket-owner'))));
      const cookie = await rs256(claimsFor(user('cookie-owner')));

      const stream = await open(`?ticket=${encodeURIComponent(ticket)}`, { cookie: `session=${cookie}` });

      await expectOwner(stream, user('ticket-owner'), [user('cookie-owner')]);
    });

    it("should stream as the bearer token's user when a ticket of another user comes along", async () => {
      const ticket = await ticketFor(await rs256(claimsFor(user('ticket-holder'))));
      const token = await rs256(claimsFor(user('bearer-owner')));

      const stream = await open(`?ticket=${encodeURIComponent(ticket)}`, bearer(token));

      await expectOwner(stream, user('bearer-owner'), [user('ticket-holder')]);
    });

    it('should not fall back to a valid cookie when the ticket is bad', async () => {
      const cookie = await rs256(claimsFor(user('fallback')));

      const answer = await events('?ticket=not-a-ticket', { cookie: `session=${cookie}` });

      expect(answer).toMatchObject({ status: 401, json: { statusCode: 401, message: 'Invalid ticket' } });
    });

    it('should not fall back to a valid ticket or cookie when the bearer token is bad', async () => {
      const good = await rs256(claimsFor(user('fallback')));
      const ticket = await ticketFor(good);

      const answer = await events(`?ticket=${encodeURIComponent(ticket)}`, {
        ...bearer(await rs256(claimsFor(user('fallback')), attackerKeys.privatePem)),
        cookie: `session=${good}`,
      });

      expect(answer).toMatchObject({ status: 401, json: { message: 'Invalid token' } });
    });

    it.each<[string, (ticket: string) => string]>([
      ['its sub changed', (ticket) => tampered(ticket, { payload: { sub: 'mallory' } })],
      ['its topics claim removed', (ticket) => tampered(ticket, { payload: { topics: undefined } })],
      ['its sexp pushed back', (ticket) => tampered(ticket, { payload: { sexp: 4_102_444_800 } })],
      ['its typ changed', (ticket) => tampered(ticket, { header: { typ: 'JWT' } })],
      ['its signature removed', (ticket) => `${ticket.split('.').slice(0, 2).join('.')}.`],
    ])('should refuse a ticket with %s', async (_, edit) => {
      const ticket = await ticketFor(await rs256(claimsFor(user('edited'), { topics: ['orders'] })));

      const answer = await events(`?ticket=${encodeURIComponent(edit(ticket))}`);

      expect(answer).toMatchObject({ status: 401, json: { statusCode: 401, message: 'Invalid ticket' } });
    });

    it.each<[string, () => Promise<string>]>([
      [
        'that is signed with the ticket secret but lacks the ticket type and audience',
        () => hs256(claimsFor('mallory', { sexp: Math.floor(Date.now() / 1000) + 300 }), TICKET_SECRET),
      ],
      [
        'that is signed with another secret',
        () =>
          hs256(
            {
              sub: 'mallory',
              aud: 'kafka-sse-gateway:stream-ticket',
              exp: Math.floor(Date.now() / 1000) + 30,
              sexp: Math.floor(Date.now() / 1000) + 300,
            },
            'y'.repeat(40),
            { typ: 'sse-ticket+jwt' },
          ),
      ],
      ['that is an RS256 access token', () => rs256(claimsFor('mallory'))],
    ])('should refuse a ticket %s', async (_, ticket) => {
      const answer = await events(`?ticket=${encodeURIComponent(await ticket())}`);

      expect(answer).toMatchObject({ status: 401, json: { statusCode: 401, message: 'Invalid ticket' } });
    });

    it('should refuse a ticket once its TICKET_TTL_SECONDS have passed, while its token is still valid', async () => {
      const token = await rs256(claimsFor(user('ttl')));
      const ticket = await ticketFor(token);
      const expiresAt = (decode(ticket.split('.')[1]!)['exp'] as number) * 1000;
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + TICKET_TTL_SECONDS * 1000);

      await waitFor(() => Date.now() >= expiresAt, 'the ticket to expire', (TICKET_TTL_SECONDS + 2) * 1000);
      const refused = await events(`?ticket=${encodeURIComponent(ticket)}`);

      expect(refused).toMatchObject({ status: 401, json: { statusCode: 401, message: 'Ticket expired' } });
      // The token it came from still works.
      expect((await events('', bearer(token))).status).toBe(200);
    });

    it('should start one stream per ticket: a reused ticket is refused on the instance that saw it', async () => {
      const ticket = await ticketFor(await rs256(claimsFor(user('once'))));
      const first = await events(`?ticket=${encodeURIComponent(ticket)}`);
      expect(first.status).toBe(200);

      const reused = await events(`?ticket=${encodeURIComponent(ticket)}`);

      expect(reused).toMatchObject({
        status: 401,
        json: { statusCode: 401, error: 'Unauthorized', message: 'Ticket already used' },
      });
    });

    it('should start exactly one stream when the same ticket comes twice at once', async () => {
      const ticket = await ticketFor(await rs256(claimsFor(user('race'))));

      const answers = await Promise.all(
        Array.from({ length: 4 }, () => events(`?ticket=${encodeURIComponent(ticket)}`)),
      );

      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401, 401]);
    });

    it('should keep a ticket stream open past the ticket, and end it when the token expires', async () => {
      const tokenLifetimeSeconds = TICKET_TTL_SECONDS + 3;
      const token = await rs256(
        claimsFor(user('outlives'), { exp: Math.floor(Date.now() / 1000) + tokenLifetimeSeconds }),
      );
      const tokenExpiresAt = (decode(token.split('.')[1]!)['exp'] as number) * 1000;
      const ticket = await ticketFor(token);
      const ticketExpiresAt = (decode(ticket.split('.')[1]!)['exp'] as number) * 1000;
      expect(ticketExpiresAt).toBeLessThan(tokenExpiresAt);

      const raw = await RawStream.open(`${suite.gateway.url}/events?ticket=${encodeURIComponent(ticket)}`);
      suite.track(raw);
      expect(raw.response.status).toBe(200);
      await raw.waitForEnd((tokenLifetimeSeconds + 5) * 1000);

      expect(raw.endedAt).toBeGreaterThanOrEqual(tokenExpiresAt - 20);
      expect(raw.endedAt).toBeLessThan(tokenExpiresAt + 2000);
      expect(raw.text).toMatch(/: expired\n/);
    }, 30_000);
  });
});
