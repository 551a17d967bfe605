import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

const DEMO_USER = /^[A-Za-z0-9._-]{1,64}$/;
export const DEMO_TOKEN_TTL_SECONDS = 3600;

/** Signs access tokens for made-up users. Development only: DEMO_ENABLED turns it on. */
@Injectable()
export class DemoTokenService {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  async issue(user: unknown): Promise<string> {
    if (typeof user !== 'string' || !DEMO_USER.test(user)) {
      throw new BadRequestException('user must be 1-64 letters, digits, ".", "_" or "-"');
    }
    const { key, issuer, audience } = this.config.auth;
    if (key.kind !== 'secret') throw new BadRequestException('The demo needs JWT_SECRET');
    const token = new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime(`${DEMO_TOKEN_TTL_SECONDS}s`);
    if (issuer) token.setIssuer(issuer);
    if (audience) token.setAudience(audience);
    return token.sign(new TextEncoder().encode(key.secret));
  }
}
