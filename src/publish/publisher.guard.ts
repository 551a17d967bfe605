import { ForbiddenException, Injectable, type ExecutionContext } from '@nestjs/common';
import { BearerAuthGuard } from '../auth/bearer-auth.guard.js';
import type { AuthenticatedRequest } from '../auth/credentials.js';

/** A bearer token whose PUBLISH_CLAIM grants publishing; cookies are not accepted (no CSRF). */
@Injectable()
export class PublisherGuard extends BearerAuthGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    await super.canActivate(context);
    if (!context.switchToHttp().getRequest<AuthenticatedRequest>().user.publisher) {
      throw new ForbiddenException('This token may not publish events');
    }
    return true;
  }
}
