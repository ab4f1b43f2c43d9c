import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiKeyScope, UnauthenticatedError } from '@app/contracts';

/** Who is calling: set on the request by ApiKeyGuard. */
export interface AuthContext {
  organizationId: string;
  apiKeyId: string;
  /** What the key may do (ApiKeyGuard has already checked it against the route). */
  scope?: ApiKeyScope;
}

/** The request property ApiKeyGuard fills in. */
export interface AuthenticatedRequest {
  auth?: AuthContext;
}

/**
 * `@CurrentOrg() auth: AuthContext` in a handler guarded by ApiKeyGuard. Without the guard
 * there is no caller to name, so the request is refused rather than served unscoped.
 */
export const CurrentOrg = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthContext => {
  const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.auth) throw new UnauthenticatedError('this route needs an API key (ApiKeyGuard is missing)');
  return request.auth;
});
