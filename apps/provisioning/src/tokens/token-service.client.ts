import { Injectable } from '@nestjs/common';
import {
  AgentIdentityRecord,
  IssueAgentIdentityRequest,
  IssuedToken,
  IssueTokenRequest,
  IssuedAgentIdentity,
  LookupAgentsReply,
  LookupAgentsRequest,
  RevokeAgentIdentityReply,
  RevokeAgentIdentityRequest,
  Subjects,
  VerifiedToken,
  VerifyTokenRequest,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';

/** The token service as provisioning uses it: typed calls over NATS request/reply. */
@Injectable()
export class TokenServiceClient {
  constructor(private readonly rpc: RpcClient) {}

  issue(request: IssueTokenRequest): Promise<IssuedToken> {
    return this.rpc.request<IssuedToken, IssueTokenRequest>(Subjects.tokens.issue, request);
  }

  verify(request: VerifyTokenRequest): Promise<VerifiedToken> {
    return this.rpc.request<VerifiedToken, VerifyTokenRequest>(Subjects.tokens.verify, request);
  }

  issueAgentIdentity(request: IssueAgentIdentityRequest): Promise<IssuedAgentIdentity> {
    return this.rpc.request<IssuedAgentIdentity, IssueAgentIdentityRequest>(
      Subjects.tokens.agents.issue,
      request,
    );
  }

  /** Closes the agent's connections and refuses its JWTs; revoking what is already revoked is a no-op. */
  revokeAgentIdentity(request: RevokeAgentIdentityRequest): Promise<RevokeAgentIdentityReply> {
    return this.rpc.request<RevokeAgentIdentityReply, RevokeAgentIdentityRequest>(
      Subjects.tokens.agents.revoke,
      request,
    );
  }

  async lookupAgent(agentId: string): Promise<AgentIdentityRecord | null> {
    const reply = await this.rpc.request<LookupAgentsReply, LookupAgentsRequest>(
      Subjects.tokens.agents.lookup,
      {
        agentIds: [agentId],
      },
    );
    return reply.agents[0] ?? null;
  }
}
