import { Inject, Injectable } from '@nestjs/common';
import { hkdfSync, randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { authUserFromClaims, type AuthUser } from './auth-user.js';
import { TicketReplayCache } from './ticket-replay-cache.js';

const TICKET_TYPE = 'sse-ticket+jwt';
const TICKET_AUDIENCE = 'kafka-sse-gateway:stream-ticket';
/** Tickets spent within one TTL that an instance remembers: far above what its open rates let in. */
export const TICKET_REPLAY_CACHE_SIZE = 100_000;

export interface StreamTicket {
  ticket: string;
  /** Seconds until the ticket can no longer start a stream. */
  expiresIn: number;
}

/**
 * Short-lived, signed, self-contained tickets that start a stream without putting the long-lived
 * token in a URL. Any instance verifies them with the shared key; each starts one stream on an
 * instance (a ticket copied from a log is spent). It is spent when the stream starts, not when it
 * is verified: a request sent elsewhere (a redirect, a soft retry) leaves it for the next try.
 */
@Injectable()
export class StreamTicketService {
  private readonly key: Uint8Array;
  private readonly spent = new TicketReplayCache(TICKET_REPLAY_CACHE_SIZE);

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.key = ticketKey(config.auth);
  }

  async issue(user: AuthUser): Promise<StreamTicket> {
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = Math.min(now + this.config.auth.ticketTtlSeconds, Math.floor(user.expiresAt / 1000));
    const ticket = await new SignJWT({
      ...(user.topics === undefined ? {} : { topics: user.topics }),
      // The stream a ticket starts ends when the token it was issued for expires, not the ticket.
      sexp: Math.floor(user.expiresAt / 1000),
    })
      .setProtectedHeader({ alg: 'HS256', typ: TICKET_TYPE })
      .setSubject(user.id)
      .setAudience(TICKET_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(this.key);
    return { ticket, expiresIn: expiresAt - now };
  }

  /** The user a ticket stands for, with the ticket to spend when its stream starts. */
  async verify(ticket: string): Promise<AuthUser> {
    let payload;
    try {
      ({ payload } = await jwtVerify(ticket, this.key, {
        algorithms: ['HS256'],
        typ: TICKET_TYPE,
        audience: TICKET_AUDIENCE,
        requiredClaims: ['sub', 'exp', 'sexp', 'jti'],
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new GatewayError('token-expired', 'Ticket expired');
      throw new GatewayError('unauthenticated', 'Invalid ticket');
    }
    const user =
      typeof payload['sexp'] === 'number' ? authUserFromClaims(payload, payload['sexp']) : undefined;
    const { jti, exp } = payload;
    if (!user || typeof jti !== 'string') throw new GatewayError('unauthenticated', 'Invalid ticket');
    const used = (): GatewayError => new GatewayError('ticket-used', 'Ticket already used');
    if (this.spent.isSpent(jti)) throw used();
    const spend = (): void => {
      if (!this.spent.spend(jti, (exp as number) * 1000)) throw used();
    };
    return { ...user, ticket: { spend } };
  }
}

/**
 * Tickets get a key of their own, so a ticket is never a valid access token, nor the reverse.
 * Without TICKET_SECRET it is derived (HKDF) from the HS256 secret every instance already shares.
 */
function ticketKey(auth: GatewayConfig['auth']): Uint8Array {
  if (auth.ticketSecret !== undefined) return new TextEncoder().encode(auth.ticketSecret);
  if (auth.key.kind !== 'secret') throw new Error('TICKET_SECRET is required without JWT_SECRET');
  return new Uint8Array(hkdfSync('sha256', auth.key.secret, '', 'kafka-sse-gateway stream ticket', 32));
}
