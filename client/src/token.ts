/** What `getToken` may return: the token, or the token and when it expires. */
export type TokenResult = string | { readonly token: string; readonly expiresAt?: number };

/** Why the client asks: `refresh` is true after a 401 and before the current token expires. */
export interface TokenRequest {
  readonly refresh: boolean;
}

/** Returns the access token, or `null` when the user is signed out (the client then stops). */
export type GetToken = (request: TokenRequest) => TokenResult | null | Promise<TokenResult | null>;

export interface Token {
  readonly value: string;
  /** Epoch milliseconds, when known (from the result, or the JWT's `exp`). */
  readonly expiresAt: number | undefined;
  /** Who the token is for (`iss` and `sub` of a JWT), when it says. */
  readonly user: string | undefined;
}

export function tokenOf(result: TokenResult): Token {
  const value = typeof result === 'string' ? result : result.token;
  const claims = jwtClaims(value);
  const exp = claims?.exp;
  return {
    value,
    expiresAt:
      (typeof result === 'string' ? undefined : result.expiresAt) ??
      (typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined),
    user:
      typeof claims?.sub === 'string'
        ? `${typeof claims.iss === 'string' ? claims.iss : ''} ${claims.sub}`
        : undefined,
  };
}

/**
 * The claims of a JWT, read without verifying them: the client only schedules the rotation and
 * groups tabs by user with them; the gateway verifies. Undefined for anything that is not a JWT.
 */
function jwtClaims(token: string): { exp?: unknown; sub?: unknown; iss?: unknown } | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json) as unknown;
    return typeof claims === 'object' && claims !== null ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** Rotation starts this long before expiry at most (and never later than 3/4 of the remaining life). */
const ROTATION_LEAD_MS = 30_000;
/** However a clock is set, a stream is not rotated sooner than this after it opened. */
const MIN_ROTATION_DELAY_MS = 5000;

/**
 * How long after a stream opened to move to a fresh token: early enough that the new stream is
 * open before the gateway ends the old one at `exp`, late enough that a short-lived token is still
 * used for most of its life. `serverNow` is the gateway's time (its `Date` header): a browser's
 * clock that runs ahead must not make every token look expired. Undefined when the expiry is unknown.
 */
export function rotationDelay(token: Token, serverNow: number): number | undefined {
  if (token.expiresAt === undefined) return undefined;
  const life = Math.max(0, token.expiresAt - serverNow);
  return Math.max(MIN_ROTATION_DELAY_MS, life - Math.min(ROTATION_LEAD_MS, life / 4));
}
