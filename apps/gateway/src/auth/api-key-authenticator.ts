import { Injectable, Optional } from '@nestjs/common';
import { DomainError, ErrorCodes, scopeAllows, UnauthenticatedError } from '@app/contracts';
import { CachedTokenVerifier } from '@app/auth';
import { FailedAuthLimiter, HttpResponse, rateLimited } from '../http/rate-limit/rate-limit.module';
import { AuthContext, AuthenticatedRequest } from './current-org.decorator';
import { requiredScope } from './route-scopes';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** What authentication reads of a request: the same for Express (before the body) and Nest (in a guard). */
export type AuthenticatableRequest = AuthenticatedRequest & {
  ip?: string;
  method?: string;
  path?: string;
  headers: Record<string, unknown>;
};

/**
 * `Authorization: Bearer rca_ak_…`: the key is checked by the per-process CachedTokenVerifier (format
 * and checksum locally, then the token service), then its scope against the route (route-scopes.ts).
 * A missing, malformed, unknown, expired or revoked key fails with its DomainError (401), a key whose
 * scope does not cover the route with FORBIDDEN. Failures are counted per client address: an address
 * over its limit gets 429 before any key is looked up, except for keys this process has already
 * verified (people behind the same address keep working while a script guesses).
 */
@Injectable()
export class ApiKeyAuthenticator {
  constructor(
    private readonly verifier: CachedTokenVerifier,
    // Absent where the app is composed without rate limits (e.g. a test module): then nothing is counted.
    @Optional() private readonly failedAuth?: FailedAuthLimiter,
  ) {}

  async authenticate(request: AuthenticatableRequest, response: HttpResponse): Promise<AuthContext> {
    const header = request.headers.authorization;
    const key = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    try {
      if (typeof header !== 'string' || header.length === 0) {
        throw new UnauthenticatedError(
          'missing Authorization header: send "Authorization: Bearer <api key>"',
        );
      }
      if (!key) throw new UnauthenticatedError('Authorization header must be "Bearer <api key>"');
      // While the address is blocked, only a key this process already knows to be good gets through.
      const known = this.verifier.peek(key);
      if (!known || known instanceof DomainError || known.kind !== 'api_key') {
        const wait = (await this.failedAuth?.blockedFor(request)) ?? 0;
        if (wait > 0) throw rateLimited(response, wait, 'too many failed authentications from this address');
      }
      const verified = await this.verifier.verify(key, 'api_key');
      const scope = verified.scope ?? 'admin';
      const needed = requiredScope(request.method ?? 'GET', request.path ?? '/');
      if (!scopeAllows(scope, needed)) {
        throw new DomainError(
          ErrorCodes.FORBIDDEN,
          `this API key's scope is "${scope}"; ${request.method} ${request.path} needs "${needed}"`,
        );
      }
      return { organizationId: verified.organizationId, apiKeyId: verified.tokenId, scope };
    } catch (error) {
      if (error instanceof DomainError && HTTP_401.has(error.code)) await this.failedAuth?.record(request);
      throw error;
    }
  }
}

/** What counts as a failed authentication (not an outage of the token service). */
const HTTP_401 = new Set<string>([
  ErrorCodes.UNAUTHENTICATED,
  ErrorCodes.TOKEN_MALFORMED,
  ErrorCodes.TOKEN_UNKNOWN,
  ErrorCodes.TOKEN_EXPIRED,
  ErrorCodes.TOKEN_REVOKED,
  ErrorCodes.TOKEN_EXHAUSTED,
  ErrorCodes.TOKEN_WRONG_KIND,
]);
