import { Inject, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { authUserFromClaims, type AuthUser } from './auth-user.js';

type VerificationKey = Awaited<ReturnType<typeof importSPKI>> | Uint8Array | JWTVerifyGetKey;

/** Verifies the application's access tokens (JWT) with jose, the algorithm pinned by configuration. */
@Injectable()
export class AccessTokenVerifier {
  private readonly key: Promise<VerificationKey>;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.key = loadKey(config.auth.key);
    // A bad key is reported on first use, as a 503; never as an unhandled rejection at start-up.
    this.key.catch(() => undefined);
  }

  async verify(token: string): Promise<AuthUser> {
    const { key: source, issuer, audience } = this.config.auth;
    const key = await this.key.catch(() => {
      throw new ServiceUnavailableException('The token verification key is not usable');
    });
    try {
      const { payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
        algorithms: [source.algorithm],
        requiredClaims: ['sub', 'exp'],
        ...(issuer === undefined ? {} : { issuer }),
        ...(audience === undefined ? {} : { audience }),
      });
      const user = authUserFromClaims(payload, payload.exp as number);
      if (!user) throw new UnauthorizedException('Invalid token claims');
      const { claim, value } = this.config.publish;
      return grants(payload[claim], value) ? { ...user, publisher: true } : user;
    } catch (err) {
      throw toHttpError(err);
    }
  }
}

/** A claim grants `value` when it is that string, contains it space-separated (OAuth scopes), or lists it. */
function grants(claim: unknown, value: string): boolean {
  if (typeof claim === 'string') return claim.split(' ').includes(value);
  return Array.isArray(claim) && claim.includes(value);
}

async function loadKey(source: GatewayConfig['auth']['key']): Promise<VerificationKey> {
  switch (source.kind) {
    case 'secret':
      return new TextEncoder().encode(source.secret);
    case 'public-key':
      return importSPKI(source.pem, source.algorithm);
    case 'jwks':
      return createRemoteJWKSet(new URL(source.url));
  }
}

/** A key set that cannot be fetched is the gateway's problem (503), not the client's. */
function toHttpError(err: unknown): Error {
  if (err instanceof UnauthorizedException || err instanceof ServiceUnavailableException) return err;
  if (isKeySetUnavailable(err)) return new ServiceUnavailableException('The key set could not be fetched');
  if (err instanceof errors.JWTExpired) return new UnauthorizedException('Token expired');
  return new UnauthorizedException('Invalid token');
}

/**
 * jose reports a JWKS endpoint that times out as JWKSTimeout, one that answers other than 200 as a
 * generic JOSEError, and passes on fetch's TypeError when it cannot connect.
 */
function isKeySetUnavailable(err: unknown): boolean {
  // By name: fetch's TypeError may come from another realm (a VM context in tests).
  if (err instanceof errors.JWKSTimeout || (err as { name?: unknown } | null)?.name === 'TypeError')
    return true;
  return err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC';
}
