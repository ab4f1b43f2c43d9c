import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { UnauthenticatedError } from '@app/contracts';
import { CachedTokenVerifier } from '@app/auth';
import { AuthenticatedRequest } from './current-org.decorator';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * `Authorization: Bearer rca_ak_…` on every guarded route. The key is checked by the
 * per-process CachedTokenVerifier (format and checksum locally, then the token service);
 * a missing, malformed, unknown, expired or revoked key fails with its DomainError, which
 * the global filter turns into a 401 `{ code, message }`.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly verifier: CachedTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & { headers: Record<string, unknown> }>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.length === 0) {
      throw new UnauthenticatedError('missing Authorization header: send "Authorization: Bearer <api key>"');
    }
    const match = BEARER.exec(header);
    if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <api key>"');
    const verified = await this.verifier.verify(match[1], 'api_key');
    request.auth = { organizationId: verified.organizationId, apiKeyId: verified.tokenId };
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
