import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { readCredentials, type AuthenticatedRequest } from './credentials.js';
import { StreamTicketService } from './stream-ticket.service.js';

/** Authenticates a stream request by bearer token, stream ticket or cookie, before the stream starts. */
@Injectable()
export class StreamAuthGuard implements CanActivate {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly tokens: AccessTokenVerifier,
    private readonly tickets: StreamTicketService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credentials = readCredentials(request, this.config.auth.cookieName);
    if (!credentials)
      throw new GatewayError('unauthenticated', 'Missing credentials: a bearer token, a ticket or a cookie');
    request.user =
      credentials.kind === 'ticket'
        ? await this.tickets.verify(credentials.ticket)
        : await this.tokens.verify(credentials.token);
    return true;
  }
}
