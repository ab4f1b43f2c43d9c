import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AgentJwt,
  IssueAgentIdentityRequest,
  IssuedAgentIdentity,
  LookupAgentsReply,
  LookupAgentsRequest,
  parseAgentSubject,
  RenewAgentJwtRequest,
  RevokeAgentIdentityReply,
  RevokeAgentIdentityRequest,
  Subjects,
  ValidationFailedError,
} from '@app/contracts';
import { AgentIdentitiesService } from './agent-identities.service';

/** `tokens.agents.*` (platform services) and `agents.<env>.<id>.renew` (each agent, for itself). */
@Controller()
export class AgentIdentitiesHandler {
  constructor(private readonly identities: AgentIdentitiesService) {}

  @MessagePattern(Subjects.tokens.agents.issue)
  issue(@Payload() request: IssueAgentIdentityRequest): Promise<IssuedAgentIdentity> {
    return this.identities.issue(request);
  }

  @MessagePattern(Subjects.tokens.agents.renew)
  renewWithSignature(@Payload() request: RenewAgentJwtRequest): Promise<AgentJwt> {
    return this.identities.renewWithSignature(request);
  }

  @MessagePattern(Subjects.tokens.agents.revoke)
  revoke(@Payload() request: RevokeAgentIdentityRequest): Promise<RevokeAgentIdentityReply> {
    return this.identities.revoke(request);
  }

  @MessagePattern(Subjects.tokens.agents.lookup)
  lookup(@Payload() request: LookupAgentsRequest): Promise<LookupAgentsReply> {
    return this.identities.lookup(request);
  }

  /** The subject names the agent; NATS permissions guarantee only that agent could publish on it. */
  @MessagePattern(Subjects.renewWildcard)
  renewOnSubject(@Ctx() context: NatsContext): Promise<AgentJwt> {
    const subject = parseAgentSubject(context.getSubject());
    if (subject?.kind !== 'renew')
      throw new ValidationFailedError([{ field: 'subject', reason: 'not a renew subject' }]);
    return this.identities.renewOnSubject(subject.environment, subject.agentId);
  }
}
