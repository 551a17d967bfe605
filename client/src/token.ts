/** What `getToken` may return: the token, or the token and when it expires. */
export type TokenResult = string | { readonly token: string; readonly expiresAt?: number };

/** Why the client asks: `refresh` is true after a 401 and before the current token expires. */
export interface TokenRequest {
  readonly refresh: boolean;
}

export type GetToken = (request: TokenRequest) => TokenResult | Promise<TokenResult>;

export interface Token {
  readonly value: string;
  /** Epoch milliseconds, when known (from the result, or the JWT's `exp`). */
  readonly expiresAt: number | undefined;
  readonly receivedAt: number;
}

export function tokenOf(result: TokenResult, now: number): Token {
  if (typeof result === 'string') return { value: result, expiresAt: jwtExpiry(result), receivedAt: now };
  return { value: result.token, expiresAt: result.expiresAt ?? jwtExpiry(result.token), receivedAt: now };
}

/**
 * The `exp` claim of a JWT, read without verifying it: the client only schedules the rotation
 * with it, the gateway verifies. Undefined for anything that is not a readable JWT.
 */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(
      payload
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(payload.length / 4) * 4, '='),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Rotation starts this long before expiry at most (and never later than 3/4 of the token's life). */
const ROTATION_LEAD_MS = 30_000;

/**
 * When to move to a fresh token: early enough that the new stream is open before the gateway
 * ends the old one at `exp`, and late enough that a short-lived token is still used for most of
 * its life. Undefined when the expiry is unknown.
 */
export function rotationAt(token: Token): number | undefined {
  if (token.expiresAt === undefined) return undefined;
  const life = Math.max(0, token.expiresAt - token.receivedAt);
  return token.expiresAt - Math.min(ROTATION_LEAD_MS, life / 4);
}
