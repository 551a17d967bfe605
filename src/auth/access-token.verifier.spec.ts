import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { GatewayError } from '../common/gateway-error.js';
import { parseGatewayConfig } from '../config/gateway.config.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import type { AuthUser } from './auth-user.js';
import { DEMO_TOKEN_AUDIENCE, DEMO_TOKEN_TYPE, DemoTokenKey } from './demo-token.key.js';

const SECRET = 'an-hs256-secret-that-is-long-enough!';
const TICKET_SECRET = 'a-ticket-secret-of-32-characters';

type SigningKey = CryptoKey | Uint8Array;

const now = (): number => Math.floor(Date.now() / 1000);
const secretKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** An access token for alice, valid for five minutes unless `claims` say otherwise. */
function sign(
  key: SigningKey,
  alg: string,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ sub: 'alice', exp: now() + 300, ...claims })
    .setProtectedHeader({ ...header, alg })
    .sign(key);
}

/** A verifier; unless `env` names one, tokens of any audience pass, as most cases here have none. */
function verifierFor(env: Record<string, string>): AccessTokenVerifier {
  const config = parseGatewayConfig({
    KAFKA_BROKERS: 'localhost:9092',
    JWT_AUDIENCE_OPTIONAL: 'true',
    ...env,
  });
  return new AccessTokenVerifier(config, new DemoTokenKey(config));
}

/** A verifier of a JWKS served over http by the test itself. */
function jwksVerifierFor(url: string): AccessTokenVerifier {
  return verifierFor({
    JWT_JWKS_URL: url,
    TICKET_SECRET,
    ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT: 'true',
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected the promise to reject');
}

async function expectUnauthorized(promise: Promise<unknown>, message: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error.status).toBe(401);
  expect(error.message).toBe(message);
}

/** A JWKS endpoint on a free local port. */
async function serve(listener: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, server };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe(AccessTokenVerifier.name, () => {
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey; pem: string };
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey; pem: string };

  beforeAll(async () => {
    const rsaPair = await generateKeyPair('RS256');
    const ecPair = await generateKeyPair('ES256');
    rsa = { ...rsaPair, pem: await exportSPKI(rsaPair.publicKey) };
    ec = { ...ecPair, pem: await exportSPKI(ecPair.publicKey) };
  });

  describe('with an HS256 secret', () => {
    let sut: AccessTokenVerifier;

    beforeEach(() => {
      sut = verifierFor({ JWT_SECRET: SECRET });
    });

    it('should return the user a valid token describes', async () => {
      const exp = now() + 300;
      const token = await sign(secretKey(SECRET), 'HS256', { sub: 'alice', exp, topics: ['orders', 'chat'] });

      await expect(sut.verify(token)).resolves.toEqual<AuthUser>({
        id: 'alice',
        topics: ['orders', 'chat'],
        expiresAt: exp * 1000,
      });
    });

    it('should leave topics undefined when the token has no topics claim', async () => {
      const exp = now() + 60;
      const token = await sign(secretKey(SECRET), 'HS256', { sub: 'bob', exp });

      await expect(sut.verify(token)).resolves.toEqual<AuthUser>({
        id: 'bob',
        topics: undefined,
        expiresAt: exp * 1000,
      });
    });

    it('should keep an empty topics claim, which allows no topic', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { topics: [] });

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice', topics: [] });
    });

    it('should reject a token signed with another secret', async () => {
      const token = await sign(secretKey('another-secret-that-is-long-enough!!'), 'HS256');

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject HS512 even with the right secret', async () => {
      const token = await sign(secretKey(SECRET), 'HS512');

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject an RS256 token', async () => {
      const token = await sign(rsa.privateKey, 'RS256');

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject an unsigned token (alg: none)', async () => {
      const token = new UnsecuredJWT({ sub: 'alice' }).setExpirationTime(now() + 300).encode();

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject an expired token as expired', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { exp: now() - 10 });

      await expectUnauthorized(sut.verify(token), 'Token expired');
    });

    it('should reject a token whose exp is now', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { exp: now() });

      await expectUnauthorized(sut.verify(token), 'Token expired');
    });

    it('should reject a token not valid yet', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { nbf: now() + 60 });

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should accept a token whose nbf has passed', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { nbf: now() - 60 });

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice' });
    });

    it.each<[string, JWTPayload]>([
      ['sub', { sub: undefined }],
      ['exp', { exp: undefined }],
    ])('should reject a token without %s', async (_, claims) => {
      const token = await sign(secretKey(SECRET), 'HS256', claims);

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it.each<[string, Record<string, unknown>]>([
      ['an empty sub', { sub: '' }],
      ['a numeric sub', { sub: 42 }],
      ['a sub with a line feed', { sub: 'alice\nbob' }],
      ['a sub with U+2028', { sub: 'alice\u2028' }],
      ['a sub over 256 characters', { sub: 'a'.repeat(257) }],
      ['topics as a string', { topics: 'orders' }],
      ['topics with a number', { topics: ['orders', 1] }],
      ['topics as an object', { topics: { 0: 'orders' } }],
      ['topics null', { topics: null }],
    ])('should reject %s as invalid claims', async (_, claims) => {
      const token = await sign(secretKey(SECRET), 'HS256', claims);

      await expectUnauthorized(sut.verify(token), 'Invalid token claims');
    });

    it('should accept a sub of 256 characters', async () => {
      const sub = 'a'.repeat(256);
      const token = await sign(secretKey(SECRET), 'HS256', { sub });

      await expect(sut.verify(token)).resolves.toMatchObject({ id: sub });
    });

    it('should reject a token whose payload was changed after signing', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { sub: 'alice', topics: ['chat'] });
      const [header, , signature] = token.split('.');
      const forged = base64url.encode(JSON.stringify({ sub: 'admin', exp: now() + 300, topics: ['chat'] }));

      await expectUnauthorized(sut.verify(`${header}.${forged}.${signature}`), 'Invalid token');
    });

    it('should reject a token whose signature was cut off', async () => {
      const token = await sign(secretKey(SECRET), 'HS256');

      await expectUnauthorized(sut.verify(`${token.slice(0, token.lastIndexOf('.'))}.`), 'Invalid token');
    });

    it.each(['', 'not-a-jwt', 'a.b.c', 'a.b'])('should reject the malformed token %p', async (token) => {
      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should accept any issuer and audience when JWT_AUDIENCE_OPTIONAL says so and no issuer is configured', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { iss: 'https://anyone.test', aud: 'anything' });

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice' });
    });
  });

  describe('with an issuer and audience configured', () => {
    let sut: AccessTokenVerifier;

    beforeEach(() => {
      sut = verifierFor({ JWT_SECRET: SECRET, JWT_ISSUER: 'https://issuer.test', JWT_AUDIENCE: 'gateway' });
    });

    it('should accept the configured issuer and audience', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', { iss: 'https://issuer.test', aud: 'gateway' });

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice' });
    });

    it('should accept an audience list that includes the configured audience', async () => {
      const token = await sign(secretKey(SECRET), 'HS256', {
        iss: 'https://issuer.test',
        aud: ['other', 'gateway'],
      });

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice' });
    });

    it.each<[string, JWTPayload]>([
      ['no issuer', { aud: 'gateway' }],
      ['another issuer', { iss: 'https://evil.test', aud: 'gateway' }],
      ['no audience', { iss: 'https://issuer.test' }],
      ['another audience', { iss: 'https://issuer.test', aud: 'other' }],
    ])('should reject a token with %s', async (_, claims) => {
      const token = await sign(secretKey(SECRET), 'HS256', claims);

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });
  });

  describe('with JWT_TYPE', () => {
    const sut = () => verifierFor({ JWT_SECRET: SECRET, JWT_AUDIENCE: 'gateway', JWT_TYPE: 'at+jwt' });

    it('should accept a token of that type, with or without the application/ prefix', async () => {
      for (const typ of ['at+jwt', 'application/at+jwt']) {
        const token = await sign(secretKey(SECRET), 'HS256', { aud: 'gateway' }, { typ });

        await expect(sut().verify(token)).resolves.toMatchObject({ id: 'alice' });
      }
    });

    it.each<[string, Record<string, unknown>]>([
      ['typ JWT, as an ID token has', { typ: 'JWT' }],
      ['no typ', {}],
      ['another type', { typ: 'sse-ticket+jwt' }],
    ])('should reject a token with %s', async (_, header) => {
      const token = await sign(secretKey(SECRET), 'HS256', { aud: 'gateway' }, header);

      await expectUnauthorized(sut().verify(token), 'Invalid token');
    });
  });

  describe('clock tolerance (JWT_CLOCK_TOLERANCE_SECONDS)', () => {
    it('should accept a token whose nbf and iat are within the tolerance ahead', async () => {
      const sut = verifierFor({ JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_SECONDS: '10' });
      const token = await sign(secretKey(SECRET), 'HS256', { nbf: now() + 8, iat: now() + 8 });

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice' });
    });

    it('should reject a token whose nbf is beyond the tolerance', async () => {
      const sut = verifierFor({ JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_SECONDS: '10' });
      const token = await sign(secretKey(SECRET), 'HS256', { nbf: now() + 30 });

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should default to 5 seconds', async () => {
      const sut = verifierFor({ JWT_SECRET: SECRET });

      await expect(
        sut.verify(await sign(secretKey(SECRET), 'HS256', { nbf: now() + 3 })),
      ).resolves.toMatchObject({ id: 'alice' });
      await expectUnauthorized(
        sut.verify(await sign(secretKey(SECRET), 'HS256', { nbf: now() + 20 })),
        'Invalid token',
      );
    });

    it('should not stretch exp: a stream never outlives it', async () => {
      const sut = verifierFor({ JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_SECONDS: '60' });
      const token = await sign(secretKey(SECRET), 'HS256', { exp: now() - 1 });

      await expectUnauthorized(sut.verify(token), 'Token expired');
    });
  });

  describe('demo tokens', () => {
    const demoToken = (key: Uint8Array, claims: JWTPayload = {}, typ = DEMO_TOKEN_TYPE) =>
      sign(key, 'HS256', { aud: DEMO_TOKEN_AUDIENCE, ...claims }, { typ });

    it('should accept a token signed with the demo key, with the demo type and audience, only with DEMO_ENABLED', async () => {
      const config = parseGatewayConfig({
        KAFKA_BROKERS: 'localhost:9092',
        JWT_SECRET: SECRET,
        JWT_AUDIENCE: 'gateway',
        DEMO_ENABLED: 'true',
      });
      const demoKey = new DemoTokenKey(config);
      const sut = new AccessTokenVerifier(config, demoKey);

      await expect(sut.verify(await demoToken(demoKey.secret!))).resolves.toMatchObject({ id: 'alice' });
      await expectUnauthorized(
        sut.verify(await demoToken(demoKey.secret!, { aud: 'gateway' })),
        'Invalid token',
      );
      await expectUnauthorized(sut.verify(await demoToken(demoKey.secret!, {}, 'JWT')), 'Invalid token');
      await expectUnauthorized(sut.verify(await demoToken(secretKey(SECRET))), 'Invalid token');
    });

    it('should make up a new demo key for every instance, never from JWT_SECRET', () => {
      const config = parseGatewayConfig({
        KAFKA_BROKERS: 'localhost:9092',
        JWT_SECRET: SECRET,
        JWT_AUDIENCE: 'gateway',
        DEMO_ENABLED: 'true',
      });

      const [one, two] = [new DemoTokenKey(config), new DemoTokenKey(config)];

      expect(one.secret).toHaveLength(32);
      expect(Buffer.from(one.secret!).equals(Buffer.from(two.secret!))).toBe(false);
      expect(Buffer.from(one.secret!).toString()).not.toContain(SECRET);
    });

    it('should have no demo key without DEMO_ENABLED, so no demo token verifies', async () => {
      const config = parseGatewayConfig({
        KAFKA_BROKERS: 'localhost:9092',
        JWT_SECRET: SECRET,
        JWT_AUDIENCE: 'gateway',
      });
      const elsewhere = new DemoTokenKey(
        parseGatewayConfig({
          KAFKA_BROKERS: 'k:1',
          JWT_SECRET: SECRET,
          JWT_AUDIENCE: 'gateway',
          DEMO_ENABLED: 'true',
        }),
      );
      const sut = new AccessTokenVerifier(config, new DemoTokenKey(config));

      expect(new DemoTokenKey(config).secret).toBeUndefined();
      await expectUnauthorized(sut.verify(await demoToken(elsewhere.secret!)), 'Invalid token');
    });
  });

  describe('with an RS256 public key', () => {
    it('should accept an RS256 token, the PEM given with real newlines', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: rsa.pem, TICKET_SECRET });
      const exp = now() + 300;
      const token = await sign(rsa.privateKey, 'RS256', { sub: 'carol', exp, topics: ['orders'] });

      await expect(sut.verify(token)).resolves.toEqual<AuthUser>({
        id: 'carol',
        topics: ['orders'],
        expiresAt: exp * 1000,
      });
    });

    it('should accept an RS256 token, the PEM given with literal "\\n" escapes', async () => {
      const escaped = rsa.pem.trim().replace(/\n/g, '\\n');
      expect(escaped).not.toContain('\n');
      const sut = verifierFor({ JWT_PUBLIC_KEY: escaped, TICKET_SECRET });
      const token = await sign(rsa.privateKey, 'RS256');

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice' });
    });

    it('should reject an ES256 token', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: rsa.pem, TICKET_SECRET });
      const token = await sign(ec.privateKey, 'ES256');

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject an RS256 token signed by another key', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: rsa.pem, TICKET_SECRET });
      const other = await generateKeyPair('RS256');
      const token = await sign(other.privateKey, 'RS256');

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject an HS256 token signed with the public key PEM as the secret (algorithm confusion)', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: rsa.pem, TICKET_SECRET });
      const token = await sign(secretKey(rsa.pem), 'HS256');

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject an unsigned token (alg: none)', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: rsa.pem, TICKET_SECRET });
      const token = new UnsecuredJWT({ sub: 'alice' }).setExpirationTime(now() + 300).encode();

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });

    it('should reject an expired RS256 token as expired', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: rsa.pem, TICKET_SECRET });
      const token = await sign(rsa.privateKey, 'RS256', { exp: now() - 1 });

      await expectUnauthorized(sut.verify(token), 'Token expired');
    });
  });

  describe('with an ES256 public key', () => {
    it('should accept an ES256 token', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: ec.pem, JWT_ALGORITHM: 'ES256', TICKET_SECRET });
      const exp = now() + 120;
      const token = await sign(ec.privateKey, 'ES256', { sub: 'dave', exp });

      await expect(sut.verify(token)).resolves.toEqual<AuthUser>({
        id: 'dave',
        topics: undefined,
        expiresAt: exp * 1000,
      });
    });

    it('should accept an ES256 token, the PEM given with literal "\\n" escapes', async () => {
      const sut = verifierFor({
        JWT_PUBLIC_KEY: ec.pem.replace(/\n/g, '\\n'),
        JWT_ALGORITHM: 'ES256',
        TICKET_SECRET,
      });
      const token = await sign(ec.privateKey, 'ES256');

      await expect(sut.verify(token)).resolves.toMatchObject({ id: 'alice' });
    });

    it('should reject an RS256 token', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: ec.pem, JWT_ALGORITHM: 'ES256', TICKET_SECRET });
      const token = await sign(rsa.privateKey, 'RS256');

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });
  });

  describe('with an unusable public key', () => {
    it('should answer 503 when the PEM does not hold a key', async () => {
      const sut = verifierFor({
        JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----',
        TICKET_SECRET,
      });
      const token = await sign(rsa.privateKey, 'RS256');

      const error = await rejectionOf(sut.verify(token));

      expect(error.code).toBe('key-unavailable');
      expect(error.status).toBe(503);
      expect(error.message).toBe('The token verification key is not usable');
    });

    it('should answer 503 when the key does not fit the algorithm', async () => {
      const sut = verifierFor({ JWT_PUBLIC_KEY: rsa.pem, JWT_ALGORITHM: 'ES256', TICKET_SECRET });
      const token = await sign(ec.privateKey, 'ES256');

      const error = await rejectionOf(sut.verify(token));

      expect(error.code).toBe('key-unavailable');
      expect(error.message).toBe('The token verification key is not usable');
    });
  });

  describe('with a JWKS URL', () => {
    let jwks: { url: string; server: Server };

    beforeAll(async () => {
      const jwk = await exportJWK(rsa.publicKey);
      jwks = await serve((_, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: [{ ...jwk, kid: 'key-1', alg: 'RS256', use: 'sig' }] }));
      });
    });

    afterAll(async () => {
      await stop(jwks.server);
    });

    it('should accept a token signed by a key of the set', async () => {
      const sut = jwksVerifierFor(jwks.url);
      const exp = now() + 300;
      const token = await sign(rsa.privateKey, 'RS256', { exp, topics: ['chat'] }, { kid: 'key-1' });

      await expect(sut.verify(token)).resolves.toEqual<AuthUser>({
        id: 'alice',
        topics: ['chat'],
        expiresAt: exp * 1000,
      });
    });

    it('should reject a token whose key is not in the set', async () => {
      const sut = jwksVerifierFor(jwks.url);
      const other = await generateKeyPair('RS256');
      const token = await sign(other.privateKey, 'RS256', {}, { kid: 'key-2' });

      await expectUnauthorized(sut.verify(token), 'Invalid token');
    });
  });
});

describe(`${AccessTokenVerifier.name} with a JWKS that cannot be fetched`, () => {
  let rsa: CryptoKey;

  beforeAll(async () => {
    rsa = (await generateKeyPair('RS256')).privateKey;
  });

  it('should answer 503, not 401, when the JWKS endpoint fails with HTTP 500', async () => {
    const jwks = await serve((_, response) => {
      response.statusCode = 500;
      response.end('unavailable');
    });
    try {
      const sut = jwksVerifierFor(jwks.url);
      const token = await sign(rsa, 'RS256', {}, { kid: 'key-1' });

      const error = await rejectionOf(sut.verify(token));

      expect(error.status).toBe(503);
    } finally {
      await stop(jwks.server);
    }
  });

  it('should answer 503, not 401, when the JWKS endpoint refuses connections', async () => {
    const jwks = await serve(() => undefined);
    await stop(jwks.server);
    const sut = jwksVerifierFor(jwks.url);
    const token = await sign(rsa, 'RS256', {}, { kid: 'key-1' });

    const error = await rejectionOf(sut.verify(token));

    expect(error.status).toBe(503);
  });
});
