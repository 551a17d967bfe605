import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { SignJWT } from 'jose';
import { GatewayError } from '../common/gateway-error.js';
import { parseGatewayConfig } from '../config/gateway.config.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import type { AuthUser } from './auth-user.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import type { AuthenticatedRequest } from './credentials.js';
import { DemoTokenKey } from './demo-token.key.js';

const SECRET = 'an-hs256-secret-that-is-long-enough!';

const now = (): number => Math.floor(Date.now() / 1000);

function accessToken(sub: string, exp = now() + 300): Promise<string> {
  return new SignJWT({ sub, exp })
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

describe(BearerAuthGuard.name, () => {
  const config = parseGatewayConfig({
    KAFKA_BROKERS: 'localhost:9092',
    JWT_SECRET: SECRET,
    JWT_AUDIENCE_OPTIONAL: 'true',
  });
  let sut: BearerAuthGuard;

  beforeEach(() => {
    sut = new BearerAuthGuard(new AccessTokenVerifier(config, new DemoTokenKey(config)));
  });

  it('should attach the user of a bearer token', async () => {
    const exp = now() + 300;
    const request = requestWith({ authorization: `Bearer ${await accessToken('alice', exp)}` });

    await expect(sut.canActivate(contextFor(request))).resolves.toBe(true);

    expect(request.user).toEqual<AuthUser>({ id: 'alice', topics: undefined, expiresAt: exp * 1000 });
  });

  it('should ignore the cookie', async () => {
    const request = requestWith({ cookie: `access_token=${await accessToken('alice')}` });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Missing bearer token');
    expect(request.user).toBeUndefined();
  });

  it('should ignore a ticket', async () => {
    const request = requestWith({}, { ticket: await accessToken('alice') });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Missing bearer token');
  });

  it('should reject a malformed Authorization header', async () => {
    const request = requestWith({
      authorization: 'Basic dXNlcjpwYXNz',
      cookie: `access_token=${await accessToken('alice')}`,
    });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe(
      'Authorization must be "Bearer <token>"',
    );
  });

  it('should reject an invalid bearer token', async () => {
    const request = requestWith({ authorization: 'Bearer not.a.token' });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Invalid token');
    expect(request.user).toBeUndefined();
  });

  it('should reject an expired bearer token as expired', async () => {
    const request = requestWith({ authorization: `Bearer ${await accessToken('alice', now() - 5)}` });

    expect(await unauthorizedMessage(sut.canActivate(contextFor(request)))).toBe('Token expired');
  });
});
