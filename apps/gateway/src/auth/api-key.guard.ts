import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { HttpResponse } from '../http/rate-limit/rate-limit.module';
import { ApiKeyAuthenticator, AuthenticatableRequest } from './api-key-authenticator';

/**
 * An API key on every guarded route (ApiKeyAuthenticator). Requests with a body were already
 * authenticated before it was read (authenticateBeforeBody); the rest are authenticated here.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly authenticator: ApiKeyAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatableRequest>();
    request.auth ??= await this.authenticator.authenticate(request, http.getResponse<HttpResponse>());
    return true;
  }
}

/** ApiKeyGuard plus its OpenAPI description, for a controller or a single route. */
export function ApiKeyAuth() {
  return applyDecorators(
    UseGuards(ApiKeyGuard),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'Missing, malformed, unknown, expired or revoked API key' }),
  );
}
