import { Injectable, Logger } from '@nestjs/common';
import {
  AgentRecord,
  AgentStatus,
  AgentStatuses,
  AgentTypeInfo,
  DomainError,
  Environment,
  IngestionStats,
  isDependencyUnavailable,
  ListAgentsRequest,
  OrganizationScopedRequest,
  Page,
  Subjects,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { AgentNames } from '../agents/agent-names';
import { RecentOffline, RecentOfflineReader } from './recent-offline.reader';

/** Environments counted one by one; past this the overview says the list is cut. */
export const MAX_ENVIRONMENTS_COUNTED = 100;
export const RECENT_OFFLINE_WINDOW_MS = 60 * 60 * 1000;

export interface FleetSummary {
  total: number;
  byStatus: Record<AgentStatus, number>;
  byType: { type: string; displayName: string; count: number }[];
  byEnvironment: { environment: string; count: number }[];
  environmentsTruncated: boolean;
  recentlyOffline: { windowMs: number; agents: RecentOffline[]; truncated: boolean } | null;
  ingestion: IngestionStats | null;
  /** Why `ingestion` is null (the service did not answer), so the dashboard can say so. */
  ingestionError: string | null;
}

/**
 * The fleet overview from counts only: each number is one `fleet.agents.list` call with
 * `limit: 1` whose `total` is the count, run in parallel. Nothing downloads the fleet, so the
 * cost stays the same at 10 agents or 10,000.
 */
@Injectable()
export class FleetSummaryService {
  private readonly logger = new Logger(FleetSummaryService.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly recentOffline: RecentOfflineReader,
    private readonly names: AgentNames,
  ) {}

  async summarize(organizationId: string, now = Date.now()): Promise<FleetSummary> {
    const scoped: OrganizationScopedRequest = { organizationId };
    const [types, environments] = await Promise.all([
      this.rpc.request<AgentTypeInfo[]>(Subjects.provisioning.types, {}),
      this.rpc.request<Environment[]>(Subjects.provisioning.environments, scoped),
    ]);
    const counted = environments.slice(0, MAX_ENVIRONMENTS_COUNTED);
    const count = (filter: Partial<ListAgentsRequest>) => this.count(organizationId, filter);

    const [total, statusCounts, typeCounts, environmentCounts, recentlyOffline, ingestion] =
      await Promise.all([
        count({}),
        Promise.all(AgentStatuses.map((status) => count({ status }))),
        Promise.all(types.map((type) => count({ type: type.type }))),
        Promise.all(counted.map((environment) => count({ environment: environment.name }))),
        this.recentOffline.read(organizationId, now - RECENT_OFFLINE_WINDOW_MS),
        this.ingestionStats(),
      ]);

    if (recentlyOffline) {
      const hostnames = await this.names.hostnames(
        organizationId,
        recentlyOffline.agents.map((a) => a.agentId),
      );
      recentlyOffline.agents = recentlyOffline.agents.map((a) => ({
        ...a,
        hostname: hostnames.get(a.agentId) ?? null,
      }));
    }
    return {
      total,
      byStatus: Object.fromEntries(AgentStatuses.map((status, i) => [status, statusCounts[i]])) as Record<
        AgentStatus,
        number
      >,
      byType: types.map((type, i) => ({
        type: type.type,
        displayName: type.displayName,
        count: typeCounts[i],
      })),
      byEnvironment: counted.map((environment, i) => ({
        environment: environment.name,
        count: environmentCounts[i],
      })),
      environmentsTruncated: environments.length > counted.length,
      recentlyOffline: recentlyOffline && { windowMs: RECENT_OFFLINE_WINDOW_MS, ...recentlyOffline },
      ingestion: ingestion.stats,
      ingestionError: ingestion.error,
    };
  }

  private async count(organizationId: string, filter: Partial<ListAgentsRequest>): Promise<number> {
    const page = await this.rpc.request<Page<AgentRecord>, ListAgentsRequest>(Subjects.fleet.list, {
      organizationId,
      ...filter,
      limit: 1,
      offset: 0,
    });
    return page.total;
  }

  /** Ingestion is optional for the overview: the counts still help when it is down. */
  private async ingestionStats(): Promise<{ stats: IngestionStats | null; error: string | null }> {
    try {
      return { stats: await this.rpc.request<IngestionStats>(Subjects.ingestionStats, {}), error: null };
    } catch (error) {
      const message = error instanceof DomainError ? `${error.code}: ${error.message}` : String(error);
      if (!isDependencyUnavailable(error)) this.logger.warn({ err: error }, 'ingestion stats unavailable');
      return { stats: null, error: message };
    }
  }
}
