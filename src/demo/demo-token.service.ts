import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { DEMO_TOKEN_AUDIENCE, DEMO_TOKEN_TYPE, DemoTokenKey } from '../auth/demo-token.key.js';
import { GatewayError } from '../common/gateway-error.js';

const DEMO_USER = /^[A-Za-z0-9._-]{1,64}$/;
export const DEMO_TOKEN_TTL_SECONDS = 3600;

/**
 * Signs access tokens for made-up users. Development only: DEMO_ENABLED turns it on, and the
 * tokens carry the demo's own key, type and audience, so they open streams on this instance only.
 */
@Injectable()
export class DemoTokenService {
  constructor(private readonly key: DemoTokenKey) {}

  async issue(user: unknown): Promise<string> {
    if (typeof user !== 'string' || !DEMO_USER.test(user)) {
      throw new GatewayError('bad-request', 'user must be 1-64 letters, digits, ".", "_" or "-"');
    }
    if (!this.key.secret) throw new GatewayError('not-found', 'The demo is off');
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: DEMO_TOKEN_TYPE })
      .setSubject(user)
      .setAudience(DEMO_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${DEMO_TOKEN_TTL_SECONDS}s`)
      .sign(this.key.secret);
  }
}
