/** The signed-in user a stream belongs to, as the guards attach it to the request. */
export interface AuthUser {
  /** The token's `sub`. */
  readonly id: string;
  /** The token's optional `topics` claim: when present, the only topics this user may read. */
  readonly topics: readonly string[] | undefined;
  /** When the credentials expire, in epoch milliseconds; no stream outlives it. */
  readonly expiresAt: number;
  /** The token grants publishing (PUBLISH_CLAIM contains PUBLISH_VALUE); never true for tickets. */
  readonly publisher?: boolean;
}

const MAX_USER_ID_LENGTH = 256;

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f\u2028\u2029]/;

/** Reads an AuthUser from verified claims, or returns undefined when they do not describe one. */
export function authUserFromClaims(
  claims: { sub?: unknown; topics?: unknown },
  expiresAtSeconds: number,
): AuthUser | undefined {
  const { sub, topics } = claims;
  if (
    typeof sub !== 'string' ||
    sub.length === 0 ||
    sub.length > MAX_USER_ID_LENGTH ||
    CONTROL_CHARACTERS.test(sub)
  ) {
    return undefined;
  }
  if (
    topics !== undefined &&
    !(Array.isArray(topics) && topics.every((topic) => typeof topic === 'string'))
  ) {
    return undefined;
  }
  return { id: sub, topics: topics, expiresAt: expiresAtSeconds * 1000 };
}
