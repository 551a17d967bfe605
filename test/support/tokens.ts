import { SignJWT, type JWTPayload } from 'jose';

export const TEST_JWT_SECRET = 'e2e-secret-that-is-long-enough-for-hs256!';
export const TEST_AUDIENCE = 'kafka-sse-gateway-e2e';
export const TEST_ISSUER = 'https://issuer.e2e.test';

export interface TokenOptions {
  sub?: string;
  topics?: string[];
  /** OAuth-style space-separated scopes. */
  scope?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  /** The `aud` claim; null leaves it out. */
  audience?: string | string[] | null;
  issuer?: string;
  secret?: string;
  notBefore?: number;
  /** The `typ` header; default `JWT`. */
  type?: string;
}

/** An HS256 access token as the application's identity provider would issue it. */
export function signToken(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    ...(options.topics ? { topics: options.topics } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
  };
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: options.type ?? 'JWT' })
    .setSubject(options.sub ?? 'alice')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .setIssuer(options.issuer ?? TEST_ISSUER);
  if (options.audience !== null) jwt.setAudience(options.audience ?? TEST_AUDIENCE);
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** An unsigned token (`alg: none`), which must never be accepted. */
export function unsignedToken(sub = 'alice'): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub, exp: now + 300, aud: TEST_AUDIENCE, iss: TEST_ISSUER })}.`;
}
