import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { agentTypes } from '@app/agent-core';
import {
  AgentRegisteredData,
  AgentRevokedError,
  AgentStatements,
  SignatureInvalidError,
  verifyStatement,
  DomainError,
  EnrollmentFailedData,
  EnrollReply,
  EnrollRequest,
  ErrorCodes,
  EventKinds,
  labelErrors,
  parseToken,
  PROTOCOL_VERSION,
  RateLimitedError,
  TokenMalformedError,
  UnauthenticatedError,
  ValidationFailedError,
  VerifiedToken,
} from '@app/contracts';
import { Clock } from '@app/clock';
import { ProvisioningConfig } from '../config';
import { AgentRow } from '../database';
import { AuditActions, AuditService } from '../audit/audit.service';
import { EnvironmentsService } from '../environments/environments.service';
import { ProvisioningMetrics } from '../health/provisioning-metrics';
import { AgentsRepository } from '../registry/agents.repository';
import { AgentLifecycleRepository } from '../lifecycle/agent-lifecycle.repository';
import { TokenServiceClient } from '../tokens/token-service.client';
import { TokenBucketLimiter } from './token-bucket';
import { ConcurrencyGate } from './concurrency-gate';

/** Agent ids are subject tokens (`agents.<env>.<id>.…`): `ag_` + 16 url-safe characters. */
export const newAgentId = () => `ag_${randomBytes(12).toString('base64url')}`;

/**
 * `agents.enroll` (through the gateway's intake): an agent trades an enrollment token, its host
 * identity and the public half of a key it generated for an agent id and a NATS user JWT for that
 * key. Re-enrolling keeps the agent's record only with a handover signed by its previous key.
 */

/** A record's host slot is the host id itself, or `<hostId>@<agentId>` for later agents of the same host. */
function isSlotOf(slot: string, hostId: string): boolean {
  return slot === hostId || slot.startsWith(`${hostId}@`);
}

@Injectable()
export class EnrollmentService {
  private readonly logger = new Logger(EnrollmentService.name);
  private readonly limiter: TokenBucketLimiter;
  private readonly gate: ConcurrencyGate;

  constructor(
    private readonly agents: AgentsRepository,
    private readonly tokens: TokenServiceClient,
    private readonly audit: AuditService,
    private readonly environments: EnvironmentsService,
    private readonly config: ProvisioningConfig,
    private readonly clock: Clock,
    private readonly metrics: ProvisioningMetrics,
    private readonly lifecycle: AgentLifecycleRepository,
  ) {
    this.limiter = new TokenBucketLimiter(config.ENROLL_RATE_PER_MINUTE, 60_000, () => clock.now());
    this.gate = new ConcurrencyGate(
      config.ENROLL_CONCURRENCY,
      config.ENROLL_QUEUE_MAX,
      config.ENROLL_QUEUE_WAIT_MS,
    );
  }

  /**
   * Checks what can be checked locally, then verifies (and uses up) the token, registers the
   * host and issues its credential. Every outcome is counted for `/metrics`; a refusal after the
   * token was recognised is also published as `agent.enrollment_failed` for its organisation.
   */
  async enroll(token: string | undefined, request: EnrollRequest): Promise<EnrollReply> {
    let verified: VerifiedToken | undefined;
    try {
      const checkedToken = this.checkLocally(token, request);
      const reply = await this.gate.run(async () => {
        verified = await this.tokens.verify({
          token: checkedToken,
          expectedKind: 'enrollment',
          consume: true,
        });
        return this.complete(verified, request);
      });
      this.metrics.enrollments.inc({ outcome: reply.reenrolled ? 'reenrolled' : 'enrolled' });
      return reply;
    } catch (error) {
      const code = error instanceof DomainError ? error.code : ErrorCodes.INTERNAL;
      this.metrics.enrollments.inc({ outcome: code });
      if (verified) await this.reportFailure(verified, request, code);
      throw error;
    }
  }

  /** Everything checkable without the token service, so a refused request uses nothing up. */
  private checkLocally(token: string | undefined, request: EnrollRequest): string {
    if (!token) throw new UnauthenticatedError('missing enrollment token header');
    // The checksum is checked first, so garbage never reaches the limiter or the token service.
    if (parseToken(token)?.kind !== 'enrollment') {
      throw new TokenMalformedError('not a well-formed enrollment token');
    }
    if (!this.limiter.tryTake(token)) throw new RateLimitedError('enrollment with this token');
    if (!agentTypes.names().includes(request.agentType)) {
      throw new ValidationFailedError([
        { field: 'agentType', reason: `must be one of: ${agentTypes.names().join(', ')}` },
      ]);
    }
    const labelProblems = labelErrors(request.labels ?? {});
    if (labelProblems.length) throw new ValidationFailedError(labelProblems);
    // Proof of possession, like a CSR's self-signature: the key is the caller's.
    const { publicKey, proof } = request.identity;
    if (!verifyStatement(publicKey, AgentStatements.enroll(publicKey, request.host.hostId), proof)) {
      throw new ValidationFailedError([
        {
          field: 'identity.proof',
          reason: 'must be the enrollment statement signed with identity.publicKey',
        },
      ]);
    }
    return token;
  }

  private async complete(verified: VerifiedToken, request: EnrollRequest): Promise<EnrollReply> {
    if (!verified.environment) {
      throw new DomainError(ErrorCodes.INTERNAL, 'enrollment token has no environment');
    }
    const actor = `enrollment:${verified.tokenId}`;
    // A token from before every issue path created its environment: the agent's environment is listed anyway.
    await this.environments.ensure(verified.organizationId, verified.environment, actor);
    const { agent, reenrolled, replacedKey, replaces } = await this.register(verified, request);
    const identity = await this.tokens.issueAgentIdentity({
      organizationId: agent.organization_id,
      environment: agent.environment,
      agentId: agent.id,
      publicKey: request.identity.publicKey,
      name: request.host.hostname,
      actor,
    });
    await this.agents.setIdentity(agent.organization_id, agent.id, identity.identityId);
    if (replacedKey && replacedKey !== request.identity.publicKey) {
      await this.tokens.revokeAgentIdentity({
        organizationId: agent.organization_id,
        agentId: agent.id,
        publicKey: replacedKey,
        actor,
        reason: 're-enrolled with a new key',
      });
    }
    await this.recordEnrollment(agent, verified, identity.identityId, reenrolled, replaces);
    return {
      agentId: agent.id,
      jwt: identity.jwt,
      jwtExpiresAt: identity.expiresAt,
      organizationId: agent.organization_id,
      environment: agent.environment,
      heartbeatIntervalSeconds: this.config.HEARTBEAT_INTERVAL_SECONDS,
      protocolVersion: PROTOCOL_VERSION,
      reenrolled,
    };
  }

  /** Best effort: the caller gets the original error whether or not the event could be published. */
  private async reportFailure(
    verified: VerifiedToken,
    request: EnrollRequest,
    reason: string,
  ): Promise<void> {
    try {
      const data: EnrollmentFailedData = {
        reason,
        agentType: request.agentType,
        hostname: request.host.hostname,
      };
      await this.audit.announce({
        kind: EventKinds.agentEnrollmentFailed,
        organizationId: verified.organizationId,
        environment: verified.environment,
        data: { ...data },
      });
    } catch (error) {
      this.logger.warn({ err: error, reason }, 'could not publish agent.enrollment_failed');
    }
  }

  /**
   * Finds the agent's record or creates one. A known host keeps its record only when the request
   * carries a handover signed by the key on record (the same agent, with a new key); a host id alone
   * proves nothing (it can be guessed), so without that the host is enrolled as a new agent and the
   * existing one is left alone. A revoked host stays revoked, unless `allow-reenroll` was called for
   * its agent: then it enrolls once more as a new agent (new id, new identity), and the revoked one
   * moves out of the host's slot, still revoked.
   */
  private async register(
    verified: VerifiedToken,
    request: EnrollRequest,
  ): Promise<{ agent: AgentRow; reenrolled: boolean; replacedKey?: string; replaces?: string }> {
    const organizationId = verified.organizationId;
    const environment = verified.environment as string;
    const hostId = request.host.hostId;
    const handover = request.identity.handover;
    if (handover) {
      const previous = await this.agents.get(organizationId, handover.agentId);
      // A revoked agent whose host was allowed back enrolls as a new agent: its old key proves nothing.
      const allowedBack = previous?.status === 'revoked' && previous.reenroll_allowed_at != null;
      if (
        previous &&
        !allowedBack &&
        previous.environment === environment &&
        isSlotOf(previous.host_id, hostId)
      ) {
        const replacedKey = await this.checkHandover(previous, request);
        await this.agents.updateOnReenroll(organizationId, previous.id, {
          type: request.agentType,
          hostname: request.host.hostname,
          os: request.host.os,
          version: request.agentVersion,
          labels: request.labels ?? {},
          enrollmentTokenId: verified.tokenId,
        });
        const agent: AgentRow = {
          ...previous,
          type: request.agentType,
          hostname: request.host.hostname,
          os: request.host.os,
          version: request.agentVersion,
          labels: JSON.stringify(request.labels ?? {}),
        };
        return { agent, reenrolled: true, replacedKey };
      }
      // An agent this environment does not know (e.g. the platform's data was reset): a new agent.
    }
    let existing = await this.agents.findByHost(organizationId, environment, hostId);
    let replaces: string | undefined;
    if (existing?.status === 'revoked') {
      if (!(await this.lifecycle.takeReenrollAllowance(organizationId, existing))) {
        throw new DomainError(
          ErrorCodes.FORBIDDEN,
          `agent ${existing.id} for this host was revoked; it cannot enroll again in environment ${environment} unless re-enrollment is allowed (POST /api/v1/agents/${existing.id}/allow-reenroll)`,
        );
      }
      // The revoked agent moved out of the host's slot: the new agent takes it.
      replaces = existing.id;
      existing = undefined;
    }
    const row: AgentRow = {
      id: newAgentId(),
      organization_id: organizationId,
      environment,
      type: request.agentType,
      hostname: request.host.hostname,
      host_id: hostId,
      os: request.host.os,
      version: request.agentVersion,
      status: 'pending',
      labels: JSON.stringify(request.labels ?? {}),
      identity_id: null,
      enrollment_token_id: verified.tokenId,
      first_seen_at: this.clock.now(),
      last_seen_at: null,
      revoked_at: null,
    };
    // The host's slot is taken (an agent enrolled there before, or a racing enrollment just now):
    // the new agent gets a slot of its own, `<hostId>@<agentId>`.
    if (!existing && (await this.agents.insert(row))) return { agent: row, reenrolled: false, replaces };
    const ownSlot = { ...row, host_id: `${hostId}@${row.id}`.slice(0, 255) };
    if (await this.agents.insert(ownSlot)) return { agent: ownSlot, reenrolled: false, replaces };
    throw new DomainError(ErrorCodes.INTERNAL, 'could not register the agent');
  }

  /** The handover must be signed by the key on record for that agent; returns that key. */
  private async checkHandover(previous: AgentRow, request: EnrollRequest): Promise<string> {
    if (previous.status === 'revoked') {
      throw new DomainError(ErrorCodes.FORBIDDEN, `agent ${previous.id} was revoked; it cannot enroll again`);
    }
    const record = await this.tokens.lookupAgent(previous.id);
    if (!record || record.revoked) throw new AgentRevokedError(previous.id);
    const statement = AgentStatements.handover(previous.id, request.identity.publicKey);
    if (!verifyStatement(record.publicKey, statement, request.identity.handover!.signature)) {
      throw new SignatureInvalidError('the handover is not signed by the key on record for this agent');
    }
    return record.publicKey;
  }

  private async recordEnrollment(
    agent: AgentRow,
    verified: VerifiedToken,
    identityId: string,
    reenrolled: boolean,
    replaces: string | undefined,
  ): Promise<void> {
    const actor = `enrollment:${verified.tokenId}`;
    const data: AgentRegisteredData = {
      agentType: agent.type,
      hostname: agent.hostname,
      os: agent.os,
      reenrolled,
      ...(replaces ? { replaces } : {}),
    };
    await this.audit.record(
      agent.organization_id,
      {
        actor,
        action: reenrolled ? AuditActions.agentReenrolled : AuditActions.agentEnrolled,
        targetType: 'agent',
        targetId: agent.id,
        details: {
          environment: agent.environment,
          hostname: agent.hostname,
          hostId: agent.host_id,
          agentType: agent.type,
          identityId,
          ...(replaces ? { replaces } : {}),
        },
      },
      {
        event: {
          kind: EventKinds.agentRegistered,
          organizationId: agent.organization_id,
          environment: agent.environment,
          agentId: agent.id,
          data: { ...data },
        },
      },
    );
  }
}
