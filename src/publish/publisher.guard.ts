import { Injectable, type ExecutionContext } from '@nestjs/common';
import { BearerAuthGuard } from '../auth/bearer-auth.guard.js';
import type { AuthenticatedRequest } from '../auth/credentials.js';
import { GatewayError } from '../common/gateway-error.js';

/** A bearer token whose PUBLISH_CLAIM grants publishing; cookies are not accepted (no CSRF). */
@Injectable()
export class PublisherGuard extends BearerAuthGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    await super.canActivate(context);
    if (!context.switchToHttp().getRequest<AuthenticatedRequest>().user.publisher) {
      throw new GatewayError('forbidden', 'This token may not publish events');
    }
    return true;
  }
}
