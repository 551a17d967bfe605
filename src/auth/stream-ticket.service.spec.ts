import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type JWTPayload,
} from 'jose';
import { GatewayError } from '../common/gateway-error.js';
import { parseGatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import type { AuthUser } from './auth-user.js';
import { DemoTokenKey } from './demo-token.key.js';
import { StreamTicketService } from './stream-ticket.service.js';

const SECRET = 'an-hs256-secret-that-is-long-enough!';
const OTHER_SECRET = 'another-hs256-secret-long-enough!!!';
const TICKET_SECRET = 'a-ticket-secret-of-32-characters';
const OTHER_TICKET_SECRET = 'another-ticket-secret-32-chars!!!';
const TICKET_TYPE = 'sse-ticket+jwt';
const TICKET_AUDIENCE = 'kafka-sse-gateway:stream-ticket';

const now = (): number => Math.floor(Date.now() / 1000);

function configFor(env: Record<string, string>): GatewayConfig {
  return parseGatewayConfig({ KAFKA_BROKERS: 'localhost:9092', JWT_AUDIENCE: 'gateway', ...env });
}

function userFor(expiresInSeconds: number, topics?: string[]): AuthUser {
  return { id: 'alice', topics, expiresAt: (now() + expiresInSeconds) * 1000 };
}

async function expectUnauthorized(promise: Promise<unknown>, message: string): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).status).toBe(401);
  expect((error as GatewayError).message).toBe(message);
}

/** A ticket as a service with TICKET_SECRET would sign it, the claims changed by `claims`. */
function craftTicket(
  claims: JWTPayload = {},
  header: { typ?: string } = { typ: TICKET_TYPE },
  secret = TICKET_SECRET,
): Promise<string> {
  const payload = {
    sub: 'alice',
    aud: TICKET_AUDIENCE,
    exp: now() + 30,
    sexp: now() + 600,
    jti: randomUUID(),
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(new TextEncoder().encode(secret));
}

/** The verified user, without the ticket it carries to spend. */
async function userOf(verified: Promise<AuthUser>): Promise<AuthUser> {
  const { ticket: _ticket, ...user } = await verified;
  return user;
}

describe(StreamTicketService.name, () => {
  describe('with a key derived from JWT_SECRET', () => {
    let sut: StreamTicketService;

    beforeEach(() => {
      sut = new StreamTicketService(configFor({ JWT_SECRET: SECRET }));
    });

    it('should verify a ticket it issued as the same user, topics and stream expiry', async () => {
      const user = userFor(600, ['orders', 'chat']);

      const { ticket } = await sut.issue(user);

      await expect(userOf(sut.verify(ticket))).resolves.toEqual<AuthUser>(user);
    });

    it('should keep topics undefined for a user without a topics claim', async () => {
      const user = userFor(600);

      const { ticket } = await sut.issue(user);

      await expect(userOf(sut.verify(ticket))).resolves.toEqual<AuthUser>({
        id: 'alice',
        topics: undefined,
        expiresAt: user.expiresAt,
      });
      expect(decodeJwt(ticket)).not.toHaveProperty('topics');
    });

    it('should keep an empty topics claim', async () => {
      const { ticket } = await sut.issue(userFor(600, []));

      await expect(sut.verify(ticket)).resolves.toMatchObject({ topics: [] });
    });

    it('should issue a short-lived HS256 ticket with its own type and audience', async () => {
      const user = userFor(600);

      const issued = await sut.issue(user);

      const payload = decodeJwt(issued.ticket);
      expect(decodeProtectedHeader(issued.ticket)).toEqual({ alg: 'HS256', typ: TICKET_TYPE });
      expect(payload).toEqual({
        sub: 'alice',
        aud: TICKET_AUDIENCE,
        iat: expect.any(Number),
        exp: (payload.iat as number) + 30,
        sexp: user.expiresAt / 1000,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(issued.expiresIn).toBe(30);
    });

    it('should give every ticket its own id', async () => {
      const user = userFor(600);

      const first = await sut.issue(user);
      const second = await sut.issue(user);

      expect(decodeJwt(first.ticket).jti).not.toBe(decodeJwt(second.ticket).jti);
    });

    it('should never let a ticket outlive the token it was issued for', async () => {
      const user = userFor(10, ['orders']);

      const { ticket, expiresIn } = await sut.issue(user);

      const payload = decodeJwt(ticket);
      expect(payload.exp).toBe(user.expiresAt / 1000);
      expect(expiresIn).toBe((payload.exp as number) - (payload.iat as number));
      expect(expiresIn).toBeLessThanOrEqual(10);
      await expect(userOf(sut.verify(ticket))).resolves.toEqual<AuthUser>(user);
    });

    it('should end the stream when the token expires, not the ticket', async () => {
      const user = userFor(3600);

      const { ticket } = await sut.issue(user);

      const verified = await sut.verify(ticket);
      expect(verified.expiresAt).toBe(user.expiresAt);
      expect(verified.expiresAt).toBeGreaterThan(((decodeJwt(ticket).exp as number) + 60) * 1000);
    });

    it('should take the ticket lifetime from TICKET_TTL_SECONDS', async () => {
      const short = new StreamTicketService(configFor({ JWT_SECRET: SECRET, TICKET_TTL_SECONDS: '5' }));

      const { ticket, expiresIn } = await short.issue(userFor(600));

      const payload = decodeJwt(ticket);
      expect(expiresIn).toBe(5);
      expect(payload.exp).toBe((payload.iat as number) + 5);
    });

    it('should reject a ticket issued with another JWT_SECRET', async () => {
      const other = new StreamTicketService(configFor({ JWT_SECRET: OTHER_SECRET }));
      const { ticket } = await other.issue(userFor(600));

      await expectUnauthorized(sut.verify(ticket), 'Invalid ticket');
    });

    it('should accept a ticket issued by another instance with the same JWT_SECRET', async () => {
      const other = new StreamTicketService(configFor({ JWT_SECRET: SECRET }));
      const user = userFor(600);
      const { ticket } = await other.issue(user);

      await expect(userOf(sut.verify(ticket))).resolves.toEqual<AuthUser>(user);
    });

    it('should reject a ticket whose claims were changed', async () => {
      const { ticket } = await sut.issue(userFor(600, ['chat']));
      const [header, payload, signature] = ticket.split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? ''))) as JWTPayload;
      const forged = base64url.encode(JSON.stringify({ ...claims, sub: 'admin', topics: ['orders'] }));

      await expectUnauthorized(sut.verify(`${header}.${forged}.${signature}`), 'Invalid ticket');
    });

    it('should reject a ticket whose signature was changed', async () => {
      const { ticket } = await sut.issue(userFor(600));
      const start = ticket.lastIndexOf('.') + 1;
      // The first character of the signature carries six signature bits, none of them padding.
      const changed = ticket[start] === 'A' ? 'B' : 'A';

      await expectUnauthorized(
        sut.verify(`${ticket.slice(0, start)}${changed}${ticket.slice(start + 1)}`),
        'Invalid ticket',
      );
    });

    it('should not accept an access token as a ticket, even one with the ticket type and audience', async () => {
      const accessToken = await new SignJWT({ sub: 'alice', exp: now() + 600, sexp: now() + 600 })
        .setProtectedHeader({ alg: 'HS256', typ: TICKET_TYPE })
        .setAudience(TICKET_AUDIENCE)
        .sign(new TextEncoder().encode(SECRET));

      await expectUnauthorized(sut.verify(accessToken), 'Invalid ticket');
    });

    it('should not let a ticket pass as an access token', async () => {
      const config = configFor({ JWT_SECRET: SECRET });
      const tokens = new AccessTokenVerifier(config, new DemoTokenKey(config));
      const { ticket } = await sut.issue(userFor(600));

      await expectUnauthorized(tokens.verify(ticket), 'Invalid token');
    });

    it.each(['', 'not-a-ticket', 'a.b.c'])('should reject the malformed ticket %p', async (ticket) => {
      await expectUnauthorized(sut.verify(ticket), 'Invalid ticket');
    });
  });

  describe('single use', () => {
    let sut: StreamTicketService;

    beforeEach(() => {
      sut = new StreamTicketService(configFor({ JWT_SECRET: SECRET }));
    });

    it('should start one stream per ticket: once spent, it is refused as used', async () => {
      const { ticket } = await sut.issue(userFor(600));
      const verified = await sut.verify(ticket);
      verified.ticket!.spend();

      let error: unknown;
      await sut.verify(ticket).catch((err: unknown) => (error = err));

      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ code: 'ticket-used', status: 401, message: 'Ticket already used' });
    });

    it('should not spend a ticket by verifying it: a request sent elsewhere leaves it for the next try', async () => {
      const { ticket } = await sut.issue(userFor(600));
      await sut.verify(ticket);

      const verified = await sut.verify(ticket);

      expect(() => verified.ticket!.spend()).not.toThrow();
    });

    it('should let exactly one of the same ticket presented at once start its stream', async () => {
      const { ticket } = await sut.issue(userFor(600));

      const verified = await Promise.all(Array.from({ length: 5 }, () => sut.verify(ticket)));
      const started = verified.filter((user) => {
        try {
          user.ticket!.spend();
          return true;
        } catch {
          return false;
        }
      });

      expect(started).toHaveLength(1);
    });

    it('should keep every ticket of the same user apart', async () => {
      const user = userFor(600);
      const tickets = await Promise.all([sut.issue(user), sut.issue(user)]);

      for (const { ticket } of tickets) await expect(userOf(sut.verify(ticket))).resolves.toEqual(user);
    });

    it('should accept a ticket spent on another instance: each instance remembers its own', async () => {
      const other = new StreamTicketService(configFor({ JWT_SECRET: SECRET }));
      const { ticket } = await sut.issue(userFor(600));
      (await sut.verify(ticket)).ticket!.spend();

      await expect(other.verify(ticket)).resolves.toMatchObject({ id: 'alice' });
    });
  });

  describe('expiry', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    function fakeClockAt(epochMs: number): void {
      // Only the clock: jose's crypto and the promises around it keep running as usual.
      jest.useFakeTimers({
        now: epochMs,
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
        ],
      });
    }

    it('should accept a ticket until its last second and reject it as expired after', async () => {
      const issuedAt = Date.UTC(2030, 0, 1, 12, 0, 0);
      fakeClockAt(issuedAt);
      const sut = new StreamTicketService(configFor({ JWT_SECRET: SECRET }));
      const user: AuthUser = { id: 'alice', topics: undefined, expiresAt: issuedAt + 3600_000 };
      const { ticket } = await sut.issue(user);

      jest.setSystemTime(issuedAt + 29_999);
      await expect(userOf(sut.verify(ticket))).resolves.toEqual<AuthUser>(user);

      jest.setSystemTime(issuedAt + 30_000);
      await expectUnauthorized(sut.verify(ticket), 'Ticket expired');
    });

    it('should reject a ticket as expired when the token it was issued for has expired', async () => {
      const issuedAt = Date.UTC(2030, 0, 1, 12, 0, 0);
      fakeClockAt(issuedAt);
      const sut = new StreamTicketService(configFor({ JWT_SECRET: SECRET }));
      const { ticket } = await sut.issue({ id: 'alice', topics: undefined, expiresAt: issuedAt + 5000 });

      jest.setSystemTime(issuedAt + 5000);

      await expectUnauthorized(sut.verify(ticket), 'Ticket expired');
    });
  });

  describe('with TICKET_SECRET', () => {
    let sut: StreamTicketService;

    beforeEach(() => {
      sut = new StreamTicketService(configFor({ JWT_SECRET: SECRET, TICKET_SECRET }));
    });

    it('should sign tickets with TICKET_SECRET', async () => {
      const user = userFor(600, ['orders']);
      const { ticket } = await sut.issue(user);

      const sameTicketSecret = new StreamTicketService(
        configFor({ JWT_SECRET: OTHER_SECRET, TICKET_SECRET }),
      );

      await expect(userOf(sameTicketSecret.verify(ticket))).resolves.toEqual<AuthUser>(user);
    });

    it('should reject a ticket from a service with another TICKET_SECRET', async () => {
      const other = new StreamTicketService(
        configFor({ JWT_SECRET: SECRET, TICKET_SECRET: OTHER_TICKET_SECRET }),
      );
      const { ticket } = await other.issue(userFor(600));

      await expectUnauthorized(sut.verify(ticket), 'Invalid ticket');
    });

    it('should reject a ticket from a service that derives its key from the same JWT_SECRET', async () => {
      const derived = new StreamTicketService(configFor({ JWT_SECRET: SECRET }));
      const { ticket } = await derived.issue(userFor(600));

      await expectUnauthorized(sut.verify(ticket), 'Invalid ticket');
    });

    it('should work with a public key for access tokens', async () => {
      const { publicKey } = await generateKeyPair('RS256');
      const withPublicKey = new StreamTicketService(
        configFor({ JWT_PUBLIC_KEY: await exportSPKI(publicKey), TICKET_SECRET }),
      );
      const user = userFor(600, ['chat']);

      const { ticket } = await withPublicKey.issue(user);

      await expect(userOf(sut.verify(ticket))).resolves.toEqual<AuthUser>(user);
    });

    it('should accept a ticket in the documented format', async () => {
      const sexp = now() + 900;
      const ticket = await craftTicket({ sub: 'bob', topics: ['orders'], sexp });

      await expect(userOf(sut.verify(ticket))).resolves.toEqual<AuthUser>({
        id: 'bob',
        topics: ['orders'],
        expiresAt: sexp * 1000,
      });
    });

    it('should reject a ticket whose exp has passed as expired', async () => {
      const ticket = await craftTicket({ exp: now() - 1 });

      await expectUnauthorized(sut.verify(ticket), 'Ticket expired');
    });

    it.each<[string, JWTPayload, { typ?: string }]>([
      ['without the ticket type', {}, {}],
      ['with the JWT type', {}, { typ: 'JWT' }],
      ['without an audience', { aud: undefined }, { typ: TICKET_TYPE }],
      ['for another audience', { aud: 'gateway' }, { typ: TICKET_TYPE }],
      ['without sub', { sub: undefined }, { typ: TICKET_TYPE }],
      ['without exp', { exp: undefined }, { typ: TICKET_TYPE }],
      ['without sexp', { sexp: undefined }, { typ: TICKET_TYPE }],
      ['without jti', { jti: undefined }, { typ: TICKET_TYPE }],
      ['with a numeric jti', { jti: 7 as unknown as string }, { typ: TICKET_TYPE }],
      ['with a string sexp', { sexp: '9999999999' }, { typ: TICKET_TYPE }],
      ['with an empty sub', { sub: '' }, { typ: TICKET_TYPE }],
      ['with a control character in sub', { sub: 'alice\r\n' }, { typ: TICKET_TYPE }],
      ['with topics that are not strings', { topics: [1, 2] }, { typ: TICKET_TYPE }],
      ['not valid yet', { nbf: now() + 60 }, { typ: TICKET_TYPE }],
    ])('should reject a ticket %s', async (_, claims, header) => {
      const ticket = await craftTicket(claims, header);

      await expectUnauthorized(sut.verify(ticket), 'Invalid ticket');
    });

    it('should reject a ticket signed with HS512', async () => {
      const ticket = await new SignJWT({
        sub: 'alice',
        aud: TICKET_AUDIENCE,
        exp: now() + 30,
        sexp: now() + 600,
      })
        .setProtectedHeader({ alg: 'HS512', typ: TICKET_TYPE })
        .sign(new TextEncoder().encode(TICKET_SECRET));

      await expectUnauthorized(sut.verify(ticket), 'Invalid ticket');
    });
  });

  it('should refuse to start without a ticket key when tokens are verified with a public key', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const config = configFor({
      JWT_PUBLIC_KEY: await exportSPKI(publicKey),
      JWT_ALGORITHM: 'ES256',
      TICKET_SECRET,
    });

    expect(
      () => new StreamTicketService({ ...config, auth: { ...config.auth, ticketSecret: undefined } }),
    ).toThrow('TICKET_SECRET is required without JWT_SECRET');
  });
});
