import { parse as parseCookies } from 'cookie';
import type { Request } from 'express';
import { GatewayError } from '../common/gateway-error.js';
import type { AuthUser } from './auth-user.js';

export type Credentials =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'cookie'; readonly token: string }
  | { readonly kind: 'ticket'; readonly ticket: string };

export type AuthenticatedRequest = Request & { user: AuthUser };

// The scheme is case-insensitive (RFC 9110, 11.1).
const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * The credentials a request presents, first found wins: the Authorization header, then a
 * `?ticket=`, then the cookie. A malformed header is an error, never a reason to try the cookie.
 */
export function readCredentials(request: Request, cookieName: string): Credentials | undefined {
  const bearer = readBearer(request);
  if (bearer !== undefined) return { kind: 'bearer', token: bearer };
  const ticket = request.query['ticket'];
  if (ticket !== undefined) {
    if (typeof ticket !== 'string' || ticket.length === 0)
      throw new GatewayError('unauthenticated', 'Malformed ticket');
    return { kind: 'ticket', ticket };
  }
  const header = request.headers.cookie;
  const token = header === undefined ? undefined : parseCookies(header)[cookieName];
  return token ? { kind: 'cookie', token } : undefined;
}

/** The token of an `Authorization: Bearer` header; undefined when there is no header. */
export function readBearer(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new GatewayError('unauthenticated', 'Authorization must be "Bearer <token>"');
  return match[1];
}
