import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { agentTypes } from '@app/agent-core';
import {
  AgentRegisteredData,
  DomainError,
  EnrollmentFailedData,
  EnrollReply,
  EnrollRequest,
  ErrorCodes,
  EventKinds,
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
import { ProvisioningMetrics } from '../health/provisioning-metrics';
import { AgentsRepository } from '../registry/agents.repository';
import { TokenServiceClient } from '../tokens/token-service.client';
import { TokenBucketLimiter } from './token-bucket';
import { ConcurrencyGate } from './concurrency-gate';

/** Agent ids are subject tokens (`agents.<env>.<id>.…`): `ag_` + 16 url-safe characters. */
export const newAgentId = () => `ag_${randomBytes(12).toString('base64url')}`;

/**
 * `agents.enroll`: an agent trades an enrollment token and its host identity for an agent id and
 * its own credential. The same host enrolling again gets its existing record and a fresh
 * credential (the old one is revoked).
 */
@Injectable()
export class EnrollmentService {
  private readonly logger = new Logger(EnrollmentService.name);
  private readonly limiter: TokenBucketLimiter;
  private readonly gate: ConcurrencyGate;

  constructor(
    private readonly agents: AgentsRepository,
    private readonly tokens: TokenServiceClient,
    private readonly audit: AuditService,
    private readonly config: ProvisioningConfig,
    private readonly clock: Clock,
    private readonly metrics: ProvisioningMetrics,
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
    validateLabels(request.labels ?? {});
    return token;
  }

  private async complete(verified: VerifiedToken, request: EnrollRequest): Promise<EnrollReply> {
    if (!verified.environment) {
      throw new DomainError(ErrorCodes.INTERNAL, 'enrollment token has no environment');
    }
    const { agent, reenrolled } = await this.register(verified, request);
    const previousCredential = agent.credential_token_id;
    const credential = await this.tokens.issue({
      kind: 'agent',
      organizationId: agent.organization_id,
      environment: agent.environment,
      agentId: agent.id,
      name: request.host.hostname,
      actor: `enrollment:${verified.tokenId}`,
    });
    await this.agents.setCredential(agent.organization_id, agent.id, credential.id);
    if (previousCredential) {
      await this.tokens.revokeIfActive({
        organizationId: agent.organization_id,
        tokenId: previousCredential,
        actor: `enrollment:${verified.tokenId}`,
        reason: 're-enrolled',
      });
    }
    await this.recordEnrollment(agent, verified, credential.id, reenrolled);
    return {
      agentId: agent.id,
      credential: credential.secret,
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

  /** Finds the host's record or creates it; a revoked host stays revoked. */
  private async register(
    verified: VerifiedToken,
    request: EnrollRequest,
  ): Promise<{ agent: AgentRow; reenrolled: boolean }> {
    const organizationId = verified.organizationId;
    const environment = verified.environment as string;
    const labels = request.labels ?? {};
    const existing = await this.agents.findByHost(organizationId, environment, request.host.hostId);
    if (!existing) {
      const row: AgentRow = {
        id: newAgentId(),
        organization_id: organizationId,
        environment,
        type: request.agentType,
        hostname: request.host.hostname,
        host_id: request.host.hostId,
        os: request.host.os,
        version: request.agentVersion,
        status: 'pending',
        labels: JSON.stringify(labels),
        credential_token_id: null,
        enrollment_token_id: verified.tokenId,
        first_seen_at: this.clock.now(),
        last_seen_at: null,
        revoked_at: null,
      };
      if (await this.agents.insert(row)) return { agent: row, reenrolled: false };
    }
    // Either registered before, or a concurrent enrollment of the same host inserted it first.
    const current =
      existing ?? (await this.agents.findByHost(organizationId, environment, request.host.hostId));
    if (!current) throw new DomainError(ErrorCodes.INTERNAL, 'agent record vanished during enrollment');
    if (current.status === 'revoked') {
      throw new DomainError(
        ErrorCodes.FORBIDDEN,
        `agent ${current.id} for this host was revoked; it cannot enroll again in environment ${environment}`,
      );
    }
    await this.agents.updateOnReenroll(organizationId, current.id, {
      type: request.agentType,
      hostname: request.host.hostname,
      os: request.host.os,
      version: request.agentVersion,
      labels,
      enrollmentTokenId: verified.tokenId,
    });
    return {
      agent: {
        ...current,
        type: request.agentType,
        hostname: request.host.hostname,
        os: request.host.os,
        version: request.agentVersion,
        labels: JSON.stringify(labels),
      },
      reenrolled: true,
    };
  }

  private async recordEnrollment(
    agent: AgentRow,
    verified: VerifiedToken,
    credentialTokenId: string,
    reenrolled: boolean,
  ): Promise<void> {
    const actor = `enrollment:${verified.tokenId}`;
    const data: AgentRegisteredData = {
      agentType: agent.type,
      hostname: agent.hostname,
      os: agent.os,
      reenrolled,
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
          credentialTokenId,
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

const MAX_LABELS = 32;

/** Labels are small string pairs; anything else is refused before it reaches the registry. */
function validateLabels(labels: Record<string, unknown>): asserts labels is Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) {
    throw new ValidationFailedError([{ field: 'labels', reason: `at most ${MAX_LABELS} labels` }]);
  }
  for (const [key, value] of entries) {
    if (!/^[A-Za-z0-9_./-]{1,63}$/.test(key)) {
      throw new ValidationFailedError([
        { field: `labels.${key}`, reason: 'key must be 1-63 of A-Z a-z 0-9 _ . / -' },
      ]);
    }
    if (typeof value !== 'string' || value.length > 255) {
      throw new ValidationFailedError([
        { field: `labels.${key}`, reason: 'value must be a string of at most 255 characters' },
      ]);
    }
  }
}
