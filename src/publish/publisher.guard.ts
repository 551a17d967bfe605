import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { AccessTokenVerifier } from '../auth/access-token.verifier.js';
import { readBearer, type AuthenticatedRequest } from '../auth/credentials.js';

/** A bearer token whose PUBLISH_CLAIM grants publishing; cookies are not accepted (no CSRF). */
@Injectable()
export class PublisherGuard implements CanActivate {
  constructor(private readonly tokens: AccessTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = readBearer(request);
    if (token === undefined) throw new UnauthorizedException('Missing bearer token');
    request.user = await this.tokens.verify(token);
    if (!request.user.publisher) throw new ForbiddenException('This token may not publish events');
    return true;
  }
}
