import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { SignJWT } from 'jose';
import { GatewayError } from '../common/gateway-error.js';
import { parseGatewayConfig } from '../config/gateway.config.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import type { AuthUser } from './auth-user.js';
import type { AuthenticatedRequest } from './credentials.js';
import { DemoTokenKey } from './demo-token.key.js';
import { StreamAuthGuard } from './stream-auth.guard.js';
import { StreamTicketService } from './stream-ticket.service.js';

const SECRET = 'an-hs256-secret-that-is-long-enough!';

const now = (): number => Math.floor(Date.now() / 1000);

function accessToken(sub: string, exp = now() + 300): Promise<string> {
  return new SignJWT({ sub, exp, topics: ['orders'] })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
}

function contextFor(request: Request): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function requestWith(
  headers: Record<string, string> = {},
  query: Record<string, unknown> = {},
): AuthenticatedRequest {
  return { headers, query } as unknown as AuthenticatedRequest;
}

async function unauthorizedMessage(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(401);
    return (err as GatewayError).message;
  }
  throw new Error('expected a 401 GatewayError');
}

describe(StreamAuthGuard.name, () => {
  const config = parseGatewayConfig({
    KAFKA_BROKERS: 'localhost:9092',
    JWT_SECRET: SECRET,
    JWT_AUDIENCE_OPTIONAL: 'true',
    AUTH_COOKIE_NAME: 'session',
  });
  const tickets = new StreamTicketService(config);
  let sut: StreamAuthGuard;

  beforeEach(() => {
    sut = new StreamAuthGuard(config, new AccessTokenVerifier(config, new DemoTokenKey(config)), tickets);
  });

  async function ticketFor(user: AuthUser): Promise<string> {
    return (await tickets.issue(user)).ticket;
  }

  it('should attach the user of a bearer token', async () => {
    const exp = now() + 300;
    const request = requestWith({ authorization: `Bearer ${await accessToken('alice', exp)}` });

    await expect(sut.canActivate(contextFor(request))).resolves.toBe(true);

    expect(request.user).toEqual<AuthUser>({ id: 'alice', topics: ['orders'], expiresAt: exp * 1000 });
  });

  it('should attach the user of a ticket, with the stream expiry of the token', async () => {
    const user: AuthUser = { id: 'bob', topics: ['chat'], expiresAt: (now() + 3600) * 1000 };
    const request = requestWith({}, { ticket: await ticketFor(user) });

    await expect(sut.canActivate(contextFor(request))).resolves.toBe(true);

    expect(request.user).toEqual<AuthUser>({
      ...user,
      ticket: { spend: expect.any(Function) as () => void },
    });
  });

  it('should attach the user of the configured cookie', async () => {
    const exp = now() + 300;
    const request = requestWith({ cookie: `theme=dark; session=${await accessToken('carol', exp)}` });

    await expect(sut.canActivate(contextFor(request))).resolves.toBe(true);

    expect(request.user).toEqual<AuthUser>({ id: 'carol', topics: ['orders'], expiresAt: exp * 1000 });
  });

  it('should prefer the bearer token over a ticket and the cookie', async () => {
    const request = requestWith(
      {
        authorization: `Bearer ${await accessToken('from-bearer')}`,
        cookie: `session=${await accessToken('from-cookie')}`,
      },
      { ticket: await ticketFor({ id: 'from-ticket', topics: undefined, expiresAt: (now() + 600) * 1000 }) },
    );

    await sut.canActivate(contextFor(request));

    expect(request.user.id).toBe('from-bearer');
  });

  it('should prefer a ticket over the cookie', async () => {
    const request = requestWith(
      { cookie: `session=${await accessToken('from-cookie')}` },
      { ticket: await ticketFor({ id: 'from-ticket', topics: undefined, expiresAt: (now() + 600) * 1000 }) },
    );

    await sut.canActivate(contextFor(request));

    expect(request.user.id).toBe('from-ticket');
  });

  it('should reject an invalid bearer token rather than fall back to a valid cookie', async () => {
    const request = requestWith({
      authorization: 'Bearer not.a.token',
      cookie: `session=${await accessToken('alice')}`,
    });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Invalid token');
    expect(request.user).toBeUndefined();
  });

  it('should reject a malformed Authorization header even when a valid cookie is present', async () => {
    const request = requestWith({
      authorization: `Token ${await accessToken('alice')}`,
      cookie: `session=${await accessToken('alice')}`,
    });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe(
      'Authorization must be "Bearer <token>"',
    );
    expect(request.user).toBeUndefined();
  });

  it('should reject a repeated ticket', async () => {
    const ticket = await ticketFor({ id: 'alice', topics: undefined, expiresAt: (now() + 600) * 1000 });
    const request = requestWith({}, { ticket: [ticket, ticket] });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Malformed ticket');
  });

  it('should reject an access token given as a ticket', async () => {
    const request = requestWith({}, { ticket: await accessToken('alice') });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Invalid ticket');
  });

  it('should reject a ticket given as a bearer token or a cookie', async () => {
    const ticket = await ticketFor({ id: 'alice', topics: undefined, expiresAt: (now() + 600) * 1000 });

    expect(
      await unauthorizedMessage(
        sut.canActivate(contextFor(requestWith({ authorization: `Bearer ${ticket}` }))),
      ),
    ).toBe('Invalid token');
    expect(
      await unauthorizedMessage(sut.canActivate(contextFor(requestWith({ cookie: `session=${ticket}` })))),
    ).toBe('Invalid token');
  });

  it('should reject an expired cookie token as expired', async () => {
    const request = requestWith({ cookie: `session=${await accessToken('alice', now() - 5)}` });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Token expired');
  });

  it('should ignore a cookie under a name other than the configured one', async () => {
    const request = requestWith({ cookie: `access_token=${await accessToken('alice')}` });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe(
      'Missing credentials: a bearer token, a ticket or a cookie',
    );
  });

  it('should reject a request without credentials', async () => {
    const request = requestWith();

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe(
      'Missing credentials: a bearer token, a ticket or a cookie',
    );
    expect(request.user).toBeUndefined();
  });
});
