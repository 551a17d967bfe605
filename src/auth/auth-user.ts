import { isCleanText } from '../common/clean-text.js';

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
  /** The stream ticket the request came with, if it came with one: spent when its stream starts. */
  readonly ticket?: SingleUse;
}

/** Something that may be used once on this instance. */
export interface SingleUse {
  /** @throws a 401 GatewayError when it was used already */
  spend(): void;
}

const MAX_USER_ID_LENGTH = 256;

/** Reads an AuthUser from verified claims, or returns undefined when they do not describe one. */
export function authUserFromClaims(
  claims: { sub?: unknown; topics?: unknown },
  expiresAtSeconds: number,
): AuthUser | undefined {
  const { sub, topics } = claims;
  if (!isCleanText(sub, MAX_USER_ID_LENGTH)) return undefined;
  if (
    topics !== undefined &&
    !(Array.isArray(topics) && topics.every((topic) => typeof topic === 'string'))
  ) {
    return undefined;
  }
  return { id: sub, topics: topics, expiresAt: expiresAtSeconds * 1000 };
}
