import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CachedTokenVerifier } from '@app/auth';
import { parseToken, TokenWrongKindError, UnauthenticatedError, VerifiedToken } from '@app/contracts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const INTAKE_TOKEN_KIND = 'rca:intake-token-kind';

/** What the guard found: the raw token, and for agent credentials what the token service said about it. */
export interface IntakeCaller {
  token: string;
  verified?: VerifiedToken;
}

interface IntakeRequest {
  headers: Record<string, unknown>;
  intake?: IntakeCaller;
}

/**
 * Authenticates agent-facing routes before the body is even validated, so an unauthenticated
 * caller learns nothing about the payload format. Agent credentials are verified here (cached,
 * revocations heard within milliseconds); enrollment tokens are only checked for form, since
 * provisioning verifies and consumes them in one step.
 */
@Injectable()
export class IntakeAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: CachedTokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const kind = this.reflector.get<'enrollment' | 'agent'>(INTAKE_TOKEN_KIND, context.getHandler());
    const request = context.switchToHttp().getRequest<IntakeRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    const what = kind === 'agent' ? 'agent credential' : 'enrollment token';
    if (!match) throw new UnauthenticatedError(`send "Authorization: Bearer <${what}>"`);
    const token = match[1];
    if (kind === 'agent') {
      request.intake = { token, verified: await this.verifier.verify(token, 'agent') };
      return true;
    }
    const parsed = parseToken(token);
    if (!parsed) throw new UnauthenticatedError(`not a well-formed ${what}`);
    if (parsed.kind !== 'enrollment') throw new TokenWrongKindError('enrollment', parsed.kind);
    request.intake = { token };
    return true;
  }
}

/** Marks a route as taking an enrollment token or an agent credential as its Bearer token. */
export function IntakeAuth(kind: 'enrollment' | 'agent') {
  return applyDecorators(SetMetadata(INTAKE_TOKEN_KIND, kind), UseGuards(IntakeAuthGuard));
}

/** The caller IntakeAuthGuard authenticated. */
export const IntakeToken = createParamDecorator((_data: unknown, ctx: ExecutionContext): IntakeCaller => {
  const request = ctx.switchToHttp().getRequest<IntakeRequest>();
  if (!request.intake) throw new UnauthenticatedError('this route needs IntakeAuth');
  return request.intake;
});
