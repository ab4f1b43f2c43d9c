import { createHash } from 'node:crypto';
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
import { AgentDirectory } from '@app/auth';
import {
  AGENT_SIGNATURE_HEADER,
  AgentIdentityRecord,
  AgentRevokedError,
  AgentStatements,
  parseAgentSignatureHeader,
  parseToken,
  SIGNATURE_MAX_SKEW_MS,
  SignatureInvalidError,
  TokenWrongKindError,
  UnauthenticatedError,
  verifyStatement,
} from '@app/contracts';
import { Clock } from '@app/clock';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const INTAKE_CALLER_KIND = 'rca:intake-caller-kind';

/** Who IntakeAuthGuard found: an enrollment token's holder, or an agent that signed the request with its key. */
export interface IntakeCaller {
  /** The enrollment token (enroll only). */
  token?: string;
  /** The agent whose key signed the request (heartbeat, metrics). */
  agent?: AgentIdentityRecord;
}

interface IntakeRequest {
  method: string;
  originalUrl: string;
  headers: Record<string, unknown>;
  rawBody?: Buffer;
  intake?: IntakeCaller;
}

/**
 * Authenticates agent-facing routes before the body is validated, so an unauthenticated caller
 * learns nothing about the payload format. Enrollment tokens are only checked for form (provisioning
 * verifies and consumes them in one step). An agent signs every other request with its own key:
 * `Rca-Agent-Signature: agent=<id>,t=<ms>,sig=<Ed25519 over method, path, t and the body's SHA-256>`;
 * no secret crosses the wire, and a captured request is useless once the time window has passed.
 */
@Injectable()
export class IntakeAuthGuard implements CanActivate {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly reflector: Reflector,
    private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const kind = this.reflector.get<'enrollment' | 'agent'>(INTAKE_CALLER_KIND, context.getHandler());
    const request = context.switchToHttp().getRequest<IntakeRequest>();
    request.intake =
      kind === 'agent' ? { agent: await this.signedBy(request) } : { token: enrollmentToken(request) };
    return true;
  }

  private async signedBy(request: IntakeRequest): Promise<AgentIdentityRecord> {
    const header = request.headers[AGENT_SIGNATURE_HEADER];
    const signed = parseAgentSignatureHeader(typeof header === 'string' ? header : undefined);
    if (!signed)
      throw new UnauthenticatedError(`send "${AGENT_SIGNATURE_HEADER}: agent=<id>,t=<ms>,sig=<signature>"`);
    if (Math.abs(this.clock.now() - signed.signedAt) > SIGNATURE_MAX_SKEW_MS) {
      throw new SignatureInvalidError('the signature time is too far from the platform clock');
    }
    const agent = await this.directory.lookup(signed.agentId);
    if (!agent) throw new SignatureInvalidError();
    const bodySha256 = createHash('sha256')
      .update(request.rawBody ?? Buffer.alloc(0))
      .digest('hex');
    const route = request.originalUrl.split('?')[0].split('/').pop() ?? '';
    const statement = AgentStatements.request(request.method, route, signed.signedAt, bodySha256);
    if (!verifyStatement(agent.publicKey, statement, signed.signature)) throw new SignatureInvalidError();
    if (agent.revoked) throw new AgentRevokedError(agent.agentId);
    return agent;
  }
}

function enrollmentToken(request: IntakeRequest): string {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) throw new UnauthenticatedError('send "Authorization: Bearer <enrollment token>"');
  const parsed = parseToken(match[1]);
  if (!parsed) throw new UnauthenticatedError('not a well-formed enrollment token');
  if (parsed.kind !== 'enrollment') throw new TokenWrongKindError('enrollment', parsed.kind);
  return match[1];
}

/** Marks a route as taking an enrollment token (Bearer) or an agent's signature. */
export function IntakeAuth(kind: 'enrollment' | 'agent') {
  return applyDecorators(SetMetadata(INTAKE_CALLER_KIND, kind), UseGuards(IntakeAuthGuard));
}

/** The caller IntakeAuthGuard authenticated. */
export const IntakeCallerParam = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): IntakeCaller => {
    const request = ctx.switchToHttp().getRequest<IntakeRequest>();
    if (!request.intake) throw new UnauthenticatedError('this route needs IntakeAuth');
    return request.intake;
  },
);
