import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AgentIdentityRecord,
  AgentJwt,
  AgentRevokedError,
  AgentStatements,
  IssueAgentIdentityRequest,
  IssuedAgentIdentity,
  LookupAgentsReply,
  LookupAgentsRequest,
  NotFoundError,
  RenewAgentJwtRequest,
  RevokeAgentIdentityReply,
  RevokeAgentIdentityRequest,
  SIGNATURE_MAX_SKEW_MS,
  SignatureInvalidError,
  verifyStatement,
} from '@app/contracts';
import { Clock } from '@app/clock';
import { AgentIdentityRow } from '../database';
import { OrganizationsRepository } from '../organizations/organizations.repository';
import { AgentIdentitiesRepository } from './agent-identities.repository';
import { AgentJwtSigner } from './agent-jwt.signer';
import { AgentsAccountPublisher, REVOCATION_PUSH_WAIT_MS } from './agents-account.publisher';

const newIdentityId = () => `ai_${randomBytes(12).toString('base64url')}`;

/**
 * Agent identities: the public key each agent generated on its host, and the short-lived NATS user
 * JWTs signed for it. A JWT is only ever signed for the key on record, so whoever asks for one
 * (an agent renewing on its own subject, a signed HTTP renewal, an enrollment) cannot obtain a JWT
 * that works without the agent's private key.
 */
@Injectable()
export class AgentIdentitiesService {
  constructor(
    private readonly identities: AgentIdentitiesRepository,
    private readonly organizations: OrganizationsRepository,
    private readonly signer: AgentJwtSigner,
    private readonly account: AgentsAccountPublisher,
    private readonly clock: Clock,
  ) {}

  /** At enrollment (provisioning, after it checked the enrollment token and the key's proof). */
  async issue(request: IssueAgentIdentityRequest): Promise<IssuedAgentIdentity> {
    if (!(await this.organizations.getById(request.organizationId))) throw new NotFoundError('organization');
    const signed = await this.signer.sign(request);
    // Strictly after the agent's previous identities, so "newest" is well defined even within one millisecond.
    const previous = await this.identities.findByAgentIds([request.agentId]);
    const createdAt = Math.max(this.clock.now(), ...previous.map((row) => Number(row.created_at) + 1));
    const row: AgentIdentityRow = {
      id: newIdentityId(),
      organization_id: request.organizationId,
      environment: request.environment,
      agent_id: request.agentId,
      public_key: request.publicKey,
      name: request.name,
      created_at: createdAt,
      jwt_expires_at: signed.expiresAtMs,
      revoked_at: null,
      revoke_reason: null,
    };
    await this.identities.insert(row);
    return { identityId: row.id, jwt: signed.jwt, expiresAt: signed.expiresAt };
  }

  /**
   * Renewal by a connected agent on `agents.<env>.<id>.renew`: only that agent can publish there,
   * so the subject is the proof; the JWT is for the key on record.
   */
  async renewOnSubject(environment: string, agentId: string): Promise<AgentJwt> {
    const current = await this.current(agentId);
    if (!current || current.environment !== environment) throw new NotFoundError(`agent ${agentId}`);
    return this.renew(current);
  }

  /** Renewal over HTTP (the JWT expired while the agent was away): proven by a signature of the key on record. */
  async renewWithSignature(request: RenewAgentJwtRequest): Promise<AgentJwt> {
    if (Math.abs(this.clock.now() - request.signedAt) > SIGNATURE_MAX_SKEW_MS) {
      throw new SignatureInvalidError('the signature time is too far from the platform clock');
    }
    const statement = AgentStatements.renew(request.agentId, request.publicKey, request.signedAt);
    if (!verifyStatement(request.publicKey, statement, request.signature)) throw new SignatureInvalidError();
    const rows = await this.identities.findByAgentIds([request.agentId]);
    const row = rows.find((r) => r.public_key === request.publicKey);
    // An unknown key is reported like a bad signature: nothing to learn about which agents exist.
    if (!row) throw new SignatureInvalidError();
    if (row.revoked_at !== null) throw new AgentRevokedError(request.agentId);
    return this.renew(row);
  }

  /**
   * Revokes the agent's keys: pushed to NATS (its connections close, its JWTs are refused), waiting
   * up to REVOCATION_PUSH_WAIT_MS for the server before answering.
   */
  async revoke(request: RevokeAgentIdentityRequest): Promise<RevokeAgentIdentityReply> {
    const revoked = await this.identities.revoke(
      request.organizationId,
      request.agentId,
      this.clock.now(),
      request.reason ?? null,
      request.publicKey,
    );
    if (revoked.length) {
      const pushed = this.account.publish();
      await Promise.race([pushed, new Promise((resolve) => setTimeout(resolve, REVOCATION_PUSH_WAIT_MS))]);
    }
    return { revoked: revoked.length };
  }

  async lookup(request: LookupAgentsRequest): Promise<LookupAgentsReply> {
    const rows = await this.identities.findByAgentIds(request.agentIds);
    const byAgent = new Map<string, AgentIdentityRow[]>();
    for (const row of rows) {
      const list = byAgent.get(row.agent_id) ?? [];
      list.push(row);
      byAgent.set(row.agent_id, list);
    }
    return { agents: request.agentIds.map((id) => toRecord(byAgent.get(id) ?? [])) };
  }

  /** The agent's key in force: its newest unrevoked identity. */
  private async current(agentId: string): Promise<AgentIdentityRow | undefined> {
    const rows = await this.identities.findByAgentIds([agentId]);
    if (rows.length && rows.every((row) => row.revoked_at !== null)) throw new AgentRevokedError(agentId);
    return rows.find((row) => row.revoked_at === null);
  }

  private async renew(row: AgentIdentityRow): Promise<AgentJwt> {
    const signed = await this.signer.sign({
      environment: row.environment,
      agentId: row.agent_id,
      publicKey: row.public_key,
      name: row.name,
    });
    await this.identities.setJwtExpiry(row.id, signed.expiresAtMs);
    return { jwt: signed.jwt, expiresAt: signed.expiresAt };
  }
}

/** Rows newest first: the newest unrevoked one is in force; none unrevoked means the agent is revoked. */
function toRecord(rows: AgentIdentityRow[]): AgentIdentityRecord | null {
  if (!rows.length) return null;
  const active = rows.find((row) => row.revoked_at === null);
  const row = active ?? rows[0];
  return {
    agentId: row.agent_id,
    organizationId: row.organization_id,
    environment: row.environment,
    publicKey: row.public_key,
    revoked: !active,
  };
}
