import { Inject, Injectable } from '@nestjs/common';
import { JSONCodec, NatsConnection } from 'nats';
import {
  AgentSortKey,
  AgentControlMessage,
  AgentCounts,
  AgentRecord,
  AgentStatus,
  EventKinds,
  ListAgentsRequest,
  NotFoundError,
  Page,
  Subjects,
  ValidationFailedError,
} from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';
import { Clock } from '@app/clock';
import { AgentRow } from '../database';
import { AuditActions, AuditService } from '../audit/audit.service';
import { ProvisioningMetrics } from '../health/provisioning-metrics';
import { TokenServiceClient } from '../tokens/token-service.client';
import { AgentFilter, AgentsRepository, HeardStatus } from './agents.repository';

const DEFAULT_PAGE_SIZE = 50;
const json = JSONCodec<AgentControlMessage>();

/** The fleet: list and read agents, revoke one, apply liveness reported by ingestion. */
@Injectable()
export class RegistryService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly tokens: TokenServiceClient,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly metrics: ProvisioningMetrics,
  ) {}

  async list(request: ListAgentsRequest): Promise<Page<AgentRecord>> {
    const limit = request.limit ?? DEFAULT_PAGE_SIZE;
    const offset = request.offset ?? 0;
    const filter: AgentFilter = {
      environment: request.environment,
      status: request.status,
      type: request.type,
      search: request.search,
      sort: request.sort
        ? { key: request.sort.replace(/^-/, '') as AgentSortKey, descending: request.sort.startsWith('-') }
        : undefined,
      label: request.label === undefined ? undefined : parseLabelFilter(request.label),
      limit,
      offset,
    };
    const { rows, total } = await this.agents.list(request.organizationId, filter);
    return { items: rows.map(toAgentRecord), total, limit, offset };
  }

  async counts(organizationId: string): Promise<AgentCounts> {
    return { groups: await this.agents.countGrouped(organizationId) };
  }

  async get(organizationId: string, agentId: string): Promise<AgentRecord> {
    return toAgentRecord(await this.require(organizationId, agentId));
  }

  /**
   * Revokes the agent's credential, marks it revoked, tells the world (`agent.revoked`) and the
   * agent itself (control message). Revoking a revoked agent returns it unchanged.
   */
  async revoke(organizationId: string, agentId: string, actor: string): Promise<AgentRecord> {
    const agent = await this.require(organizationId, agentId);
    if (agent.status === 'revoked') return toAgentRecord(agent);
    // First the agent hears why (it stops with exit code 78 instead of retrying), then its key is
    // revoked on the bus: nats-server closes its connection and refuses its JWTs from then on.
    this.nc.publish(
      Subjects.agentControl(agent.environment, agentId),
      json.encode({ type: 'revoked', reason: `revoked by ${actor}` }),
    );
    await this.nc.flush().catch(() => undefined);
    await this.tokens.revokeAgentIdentity({ organizationId, agentId, actor, reason: 'agent revoked' });
    const at = this.clock.now();
    await this.audit.record(
      organizationId,
      {
        actor,
        action: AuditActions.agentRevoked,
        targetType: 'agent',
        targetId: agentId,
        details: {
          environment: agent.environment,
          hostname: agent.hostname,
          identityId: agent.identity_id,
        },
      },
      {
        change: (trx) => this.agents.markRevoked(organizationId, agentId, at, trx),
        event: {
          kind: EventKinds.agentRevoked,
          organizationId,
          environment: agent.environment,
          agentId,
          data: { hostname: agent.hostname, agentType: agent.type },
        },
      },
    );
    this.metrics.revocations.inc();
    return toAgentRecord({ ...agent, status: 'revoked', revoked_at: at });
  }

  /** Applies ingestion's liveness and health events; see AgentsRepository.applyLiveness for ordering. */
  applyLiveness(organizationId: string, agentId: string, status: HeardStatus, lastSeenAt: number) {
    return this.agents.applyLiveness(organizationId, agentId, status, lastSeenAt);
  }

  /** Keeps the recorded version current (written at enrollment, then from `agent.version_changed`). */
  applyVersion(organizationId: string, agentId: string, version: string) {
    return this.agents.applyVersion(organizationId, agentId, version);
  }

  private async require(organizationId: string, agentId: string): Promise<AgentRow> {
    const agent = await this.agents.get(organizationId, agentId);
    if (!agent) throw new NotFoundError(`agent ${agentId}`);
    return agent;
  }
}

/** `key=value` → pair; the key must be non-empty so `=x` is an error rather than a match on nothing. */
export function parseLabelFilter(label: string): { key: string; value: string } {
  const at = label.indexOf('=');
  if (at <= 0) throw new ValidationFailedError([{ field: 'label', reason: 'must be key=value' }]);
  return { key: label.slice(0, at), value: label.slice(at + 1) };
}

export function toAgentRecord(row: AgentRow): AgentRecord {
  const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
  return {
    id: row.id,
    organizationId: row.organization_id,
    environment: row.environment,
    type: row.type,
    hostname: row.hostname,
    hostId: row.host_id,
    os: row.os,
    version: row.version,
    status: row.status as AgentStatus,
    labels: JSON.parse(row.labels) as Record<string, string>,
    firstSeenAt: new Date(Number(row.first_seen_at)).toISOString(),
    lastSeenAt: iso(row.last_seen_at),
    revokedAt: iso(row.revoked_at),
  };
}
