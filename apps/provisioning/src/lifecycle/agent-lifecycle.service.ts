import { Injectable } from '@nestjs/common';
import {
  AgentDeletedData,
  AgentLabelsChangedData,
  AgentRecord,
  AgentReenrollAllowedData,
  ConflictError,
  EventKinds,
  LabelChanges,
  NotFoundError,
  ReenrollAllowance,
} from '@app/contracts';
import { Clock } from '@app/clock';
import { AgentRow } from '../database';
import { AuditActions, AuditService } from '../audit/audit.service';
import { ProvisioningMetrics } from '../health/provisioning-metrics';
import { AgentsRepository } from '../registry/agents.repository';
import { toAgentRecord } from '../registry/registry.service';
import { TokenServiceClient } from '../tokens/token-service.client';
import { AgentLifecycleRepository } from './agent-lifecycle.repository';
import { applyLabelChanges, sameLabels } from './label-changes';

/** A label edit that lost a race with another edit is retried on the new labels this many times. */
const LABEL_EDIT_ATTEMPTS = 3;

/** The audit trail's actor of the inactive-agent cleanup. */
export const CLEANUP_ACTOR = 'system:cleanup';

/**
 * An agent after enrollment: its labels edited, its record deleted once revoked, its host allowed to
 * enroll again. Every change is audited with its actor and announced through the outbox.
 */
@Injectable()
export class AgentLifecycleService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly lifecycle: AgentLifecycleRepository,
    private readonly tokens: TokenServiceClient,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly metrics: ProvisioningMetrics,
  ) {}

  /**
   * Applies `changes` to the agent's labels (the list's `label=` filter sees them at once). A change
   * that changes nothing records nothing. `field` names the changes in a validation error.
   */
  async updateLabels(
    organizationId: string,
    agentId: string,
    changes: LabelChanges,
    actor: string,
    field = '',
  ): Promise<AgentRecord> {
    for (let attempt = 1; ; attempt++) {
      const agent = await this.require(organizationId, agentId);
      const previous = JSON.parse(agent.labels) as Record<string, string>;
      const labels = applyLabelChanges(previous, changes, field);
      if (sameLabels(previous, labels)) return toAgentRecord(agent);
      const data: AgentLabelsChangedData = { labels, previous: { labels: previous }, actor };
      const changed = await this.audit.record(
        organizationId,
        {
          actor,
          action: AuditActions.agentLabelsChanged,
          targetType: 'agent',
          targetId: agentId,
          details: { environment: agent.environment, labels, previous: { labels: previous } },
        },
        {
          change: (trx) => this.lifecycle.replaceLabels(trx, organizationId, agentId, agent.labels, labels),
          event: {
            kind: EventKinds.agentLabelsChanged,
            organizationId,
            environment: agent.environment,
            agentId,
            data: { ...data },
          },
        },
      );
      if (changed) return toAgentRecord({ ...agent, labels: JSON.stringify(labels) });
      if (attempt >= LABEL_EDIT_ATTEMPTS) {
        throw new ConflictError(`the labels of agent ${agentId} keep changing; retry`);
      }
    }
  }

  /**
   * Deletes a revoked agent's record (409 for any other status: revoke it first). Its identity is
   * revoked again first (a no-op normally), so no key of a deleted agent can ever be valid; its audit
   * entries stay, its stored metrics age out with ingestion's retention.
   */
  async delete(
    organizationId: string,
    agentId: string,
    actor: string,
    reason: AgentDeletedData['reason'] = 'requested',
  ): Promise<void> {
    const agent = await this.require(organizationId, agentId);
    if (agent.status !== 'revoked') {
      throw new ConflictError(`agent ${agentId} is ${agent.status}: only a revoked agent can be deleted`);
    }
    await this.tokens.revokeAgentIdentity({ organizationId, agentId, actor, reason: 'agent deleted' });
    const data: AgentDeletedData = { hostname: agent.hostname, agentType: agent.type, actor, reason };
    const deleted = await this.audit.record(
      organizationId,
      {
        actor,
        action: AuditActions.agentDeleted,
        targetType: 'agent',
        targetId: agentId,
        details: {
          environment: agent.environment,
          hostname: agent.hostname,
          hostId: agent.host_id,
          reason,
        },
      },
      {
        change: (trx) => this.lifecycle.deleteRevoked(trx, organizationId, agentId),
        event: {
          kind: EventKinds.agentDeleted,
          organizationId,
          environment: agent.environment,
          agentId,
          data: { ...data },
        },
      },
    );
    // Someone deleted it between the read and the delete: for this caller it is simply gone.
    if (!deleted) throw new NotFoundError(`agent ${agentId}`);
    this.metrics.deletions.inc({ reason });
  }

  /**
   * Lets the host of a revoked agent enroll once more: its next enrollment with a valid token makes a
   * new agent (new id, new identity); the revoked one stays revoked. Asking twice changes nothing.
   */
  async allowReenroll(organizationId: string, agentId: string, actor: string): Promise<ReenrollAllowance> {
    const agent = await this.require(organizationId, agentId);
    if (agent.status !== 'revoked') {
      throw new ConflictError(`agent ${agentId} is ${agent.status}: only a revoked agent's host is refused`);
    }
    if (agent.host_id.endsWith(`@${agent.id}`)) {
      // Enrollment refuses a host only for the revoked agent holding the host's own slot.
      throw new ConflictError(
        `agent ${agentId} no longer holds its host's slot (replaced, or a second agent of that host): its host is not refused`,
      );
    }
    if (agent.reenroll_allowed_at != null) return toAllowance(agent, Number(agent.reenroll_allowed_at));
    const at = this.clock.now();
    const data: AgentReenrollAllowedData = { hostId: agent.host_id, hostname: agent.hostname, actor };
    const allowed = await this.audit.record(
      organizationId,
      {
        actor,
        action: AuditActions.agentReenrollAllowed,
        targetType: 'agent',
        targetId: agentId,
        details: { environment: agent.environment, hostname: agent.hostname, hostId: agent.host_id },
      },
      {
        change: (trx) => this.lifecycle.allowReenroll(trx, organizationId, agentId, at),
        event: {
          kind: EventKinds.agentReenrollAllowed,
          organizationId,
          environment: agent.environment,
          agentId,
          data: { ...data },
        },
      },
    );
    if (!allowed) throw new NotFoundError(`agent ${agentId}`);
    return toAllowance(agent, at);
  }

  /**
   * The inactive-agent cleanup of one candidate: an offline agent is first revoked (only if it is still
   * offline and unheard since `cutoff`: the claim that makes one instance do it), then deleted. Returns
   * whether this call deleted it; false when another instance (or the agent coming back) got there first.
   */
  async retireInactive(
    organizationId: string,
    candidate: Pick<AgentRow, 'id' | 'status' | 'environment' | 'hostname' | 'type'>,
    cutoff: number,
  ): Promise<boolean> {
    if (candidate.status === 'offline' || candidate.status === 'stopped') {
      const at = this.clock.now();
      const claimed = await this.audit.record(
        organizationId,
        {
          actor: CLEANUP_ACTOR,
          action: AuditActions.agentRevoked,
          targetType: 'agent',
          targetId: candidate.id,
          details: { environment: candidate.environment, hostname: candidate.hostname, reason: 'inactive' },
        },
        {
          change: (trx) => this.lifecycle.revokeIfInactive(trx, organizationId, candidate.id, cutoff, at),
          event: {
            kind: EventKinds.agentRevoked,
            organizationId,
            environment: candidate.environment,
            agentId: candidate.id,
            data: { hostname: candidate.hostname, agentType: candidate.type, reason: 'inactive' },
          },
        },
      );
      if (!claimed) return false;
      this.metrics.revocations.inc();
    }
    try {
      await this.delete(organizationId, candidate.id, CLEANUP_ACTOR, 'inactive');
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  private async require(organizationId: string, agentId: string): Promise<AgentRow> {
    const agent = await this.agents.get(organizationId, agentId);
    if (!agent) throw new NotFoundError(`agent ${agentId}`);
    return agent;
  }
}

function toAllowance(agent: AgentRow, at: number): ReenrollAllowance {
  return { agentId: agent.id, hostId: agent.host_id, reenrollAllowedAt: new Date(at).toISOString() };
}
