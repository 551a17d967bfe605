// @ts-check
/**
 * HS256 JWTs with node:crypto alone: the load clients sign one per stream (thousands, quickly) and
 * the raw SSE floor verifies them as the gateway does, so both pay for authentication.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
/** The audience of the bench's tokens: the gateway under test gets it as JWT_AUDIENCE. */
export const BENCH_AUDIENCE = 'kafka-sse-gateway-bench';

/**
 * @param {string} secret
 * @param {string} sub
 * @param {number} ttlSeconds
 */
export function signHs256(secret, sub, ttlSeconds) {
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(
    JSON.stringify({ sub, aud: BENCH_AUDIENCE, iat: now, exp: now + ttlSeconds }),
  ).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

/**
 * Returns the token's `sub` when its HS256 signature, audience and expiry hold, else undefined.
 * @param {string} secret
 * @param {string} token
 */
export function verifyHs256(secret, token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = /** @type {[string, string, string]} */ (parts);
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    /** @type {unknown} */
    const headJson = JSON.parse(Buffer.from(header, 'base64url').toString());
    /** @type {unknown} */
    const claimsJson = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const head = /** @type {{ alg?: unknown } | null} */ (headJson);
    if (head?.alg !== 'HS256') return undefined;
    const claims = /** @type {{ sub?: unknown, exp?: unknown, aud?: unknown } | null} */ (claimsJson);
    if (!claims) return undefined;
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
    if (claims.aud !== BENCH_AUDIENCE) return undefined;
    if (claims.exp * 1000 <= Date.now()) return undefined;
    return claims.sub;
  } catch {
    return undefined;
  }
}
