import { Inject, Injectable } from '@nestjs/common';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { authUserFromClaims, type AuthUser } from './auth-user.js';
import { DEMO_TOKEN_AUDIENCE, DEMO_TOKEN_TYPE, DemoTokenKey } from './demo-token.key.js';

type VerificationKey = Awaited<ReturnType<typeof importSPKI>> | JWTVerifyGetKey;

/**
 * Verifies the application's access tokens (JWT) with jose: the algorithm pinned, the audience
 * required (unless JWT_AUDIENCE_OPTIONAL), the issuer and `typ` checked when configured.
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly key: Promise<VerificationKey>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly demoKey: DemoTokenKey,
  ) {
    this.key = loadKey(config.auth.key);
    // A bad key is reported on first use, as a 503; never as an unhandled rejection at start-up.
    this.key.catch(() => undefined);
  }

  async verify(token: string): Promise<AuthUser> {
    try {
      const payload = await this.verifiedClaims(token);
      // jose's clock tolerance covers exp too; a stream must never outlive it, so exp is exact.
      if ((payload.exp as number) <= Math.floor(Date.now() / 1000))
        throw new GatewayError('token-expired', 'Token expired');
      const user = authUserFromClaims(payload, payload.exp as number);
      if (!user) throw new GatewayError('unauthenticated', 'Invalid token claims');
      const { claim, value } = this.config.publish;
      return grants(payload[claim], value) ? { ...user, publisher: true } : user;
    } catch (err) {
      throw toGatewayError(err);
    }
  }

  private async verifiedClaims(token: string): Promise<JWTPayload> {
    const demoSecret = this.demoKey.secret;
    if (demoSecret && isDemoToken(token)) {
      const { payload } = await jwtVerify(token, demoSecret, {
        algorithms: ['HS256'],
        typ: DEMO_TOKEN_TYPE,
        audience: DEMO_TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'exp'],
      });
      return payload;
    }
    const { key: source, issuer, audience, type, clockToleranceSeconds } = this.config.auth;
    const key = await this.key.catch(() => {
      throw new GatewayError('key-unavailable', 'The token verification key is not usable');
    });
    const { payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
      algorithms: [source.algorithm],
      requiredClaims: ['sub', 'exp'],
      clockTolerance: clockToleranceSeconds,
      ...(issuer === undefined ? {} : { issuer }),
      ...(audience === undefined ? {} : { audience }),
      ...(type === undefined ? {} : { typ: type }),
    });
    return payload;
  }
}

function isDemoToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).typ === DEMO_TOKEN_TYPE;
  } catch {
    return false;
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
      // Imported once: given the raw bytes, jose would import a key for every token it verifies.
      return crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(source.secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['verify'],
      );
    case 'public-key':
      return importSPKI(source.pem, source.algorithm);
    case 'jwks':
      return createRemoteJWKSet(new URL(source.url));
  }
}

/** A key set that cannot be fetched is the gateway's problem (503), not the client's. */
function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (isKeySetUnavailable(err))
    return new GatewayError('key-unavailable', 'The key set could not be fetched');
  if (err instanceof errors.JWTExpired) return new GatewayError('token-expired', 'Token expired');
  return new GatewayError('unauthenticated', 'Invalid token');
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
