import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GatewayError } from '../common/gateway-error.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { readBearer, type AuthenticatedRequest } from './credentials.js';

/** Authenticates by `Authorization: Bearer` only: what may mint stream tickets. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(private readonly tokens: AccessTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = readBearer(request);
    if (token === undefined) throw new GatewayError('unauthenticated', 'Missing bearer token');
    request.user = await this.tokens.verify(token);
    return true;
  }
}
