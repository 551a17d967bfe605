import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthUser as AuthUserType } from './auth-user.js';
import type { AuthenticatedRequest } from './credentials.js';

/** The user a guard authenticated. */
export const AuthUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthUserType =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().user,
);
