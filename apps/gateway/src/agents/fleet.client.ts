import { Injectable } from '@nestjs/common';
import {
  AgentRecord,
  AgentsLastSeenRequest,
  AgentsLastSeenResult,
  AgentRefRequest,
  AgentTypeInfo,
  AuditEntry,
  Environment,
  FleetVersionsResult,
  ListAgentsRequest,
  ListAuditRequest,
  MetricsCatalogRequest,
  MetricsCatalogResult,
  MetricsTopRequest,
  MetricsTopResult,
  MetricsQueryRequest,
  MetricsQueryResult,
  OrganizationScopedRequest,
  Page,
  ProvisionRequest,
  ProvisionResult,
  Subjects,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';

/** The provisioning service (and metrics queries) as the gateway's routes use them. */
@Injectable()
export class FleetClient {
  constructor(private readonly rpc: RpcClient) {}

  types(): Promise<AgentTypeInfo[]> {
    return this.rpc.request<AgentTypeInfo[]>(Subjects.provisioning.types, {});
  }

  provision(request: ProvisionRequest): Promise<ProvisionResult> {
    return this.rpc.request<ProvisionResult, ProvisionRequest>(Subjects.provisioning.provision, request);
  }

  environments(organizationId: string): Promise<Environment[]> {
    return this.rpc.request<Environment[], OrganizationScopedRequest>(Subjects.provisioning.environments, {
      organizationId,
    });
  }

  listAgents(request: ListAgentsRequest): Promise<Page<AgentRecord>> {
    return this.rpc.request<Page<AgentRecord>, ListAgentsRequest>(Subjects.fleet.list, request);
  }

  getAgent(organizationId: string, agentId: string): Promise<AgentRecord> {
    return this.rpc.request<AgentRecord, AgentRefRequest>(Subjects.fleet.get, { organizationId, agentId });
  }

  revokeAgent(organizationId: string, agentId: string, actor: string): Promise<AgentRecord> {
    return this.rpc.request<AgentRecord, AgentRefRequest>(Subjects.fleet.revoke, {
      organizationId,
      agentId,
      actor,
    });
  }

  audit(request: ListAuditRequest): Promise<Page<AuditEntry>> {
    return this.rpc.request<Page<AuditEntry>, ListAuditRequest>(Subjects.fleet.audit, request);
  }

  queryMetrics(request: MetricsQueryRequest): Promise<MetricsQueryResult> {
    return this.rpc.request<MetricsQueryResult, MetricsQueryRequest>(Subjects.metricsQuery, request);
  }

  /** Which metrics one agent has sent lately (ingestion). */
  metricsCatalog(request: MetricsCatalogRequest): Promise<MetricsCatalogResult> {
    return this.rpc.request<MetricsCatalogResult, MetricsCatalogRequest>(Subjects.metricsCatalog, request);
  }

  /** The organisation's agents ranked by one metric over a window (ingestion). */
  metricsTop(request: MetricsTopRequest): Promise<MetricsTopResult> {
    return this.rpc.request<MetricsTopResult, MetricsTopRequest>(Subjects.metricsTop, request);
  }

  /** Agent versions across the organisation's fleet (provisioning). */
  versions(organizationId: string): Promise<FleetVersionsResult> {
    return this.rpc.request<FleetVersionsResult, OrganizationScopedRequest>(Subjects.fleet.versions, {
      organizationId,
    });
  }

  /** Ingestion's last heartbeat per agent; optional to the caller, so bounded and not retried. */
  lastSeen(request: AgentsLastSeenRequest, timeoutMs: number): Promise<AgentsLastSeenResult> {
    return this.rpc.request<AgentsLastSeenResult, AgentsLastSeenRequest>(Subjects.agentsLastSeen, request, {
      timeoutMs,
      failFast: true,
    });
  }
}

/** What the audit trail records as "who": the API key that made the call. */
export const apiKeyActor = (apiKeyId: string) => `api_key:${apiKeyId}`;
