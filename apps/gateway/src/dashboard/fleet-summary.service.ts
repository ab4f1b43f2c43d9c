import { Injectable, Logger } from '@nestjs/common';
import {
  AgentCountGroup,
  AgentCounts,
  AgentStatus,
  AgentStatuses,
  AgentTypeInfo,
  DomainError,
  Environment,
  IngestionStats,
  isDependencyUnavailable,
  OrganizationScopedRequest,
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
 * The fleet overview from counts only: one `fleet.agents.counts` (a single grouped query in the
 * registry: agents per environment × type × status) gives every number. Nothing downloads the fleet,
 * so the cost grows with the number of groups, not of agents.
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
    const [{ groups }, recentlyOffline, ingestion] = await Promise.all([
      this.rpc.request<AgentCounts, OrganizationScopedRequest>(Subjects.fleet.counts, scoped),
      this.recentOffline.read(organizationId, now - RECENT_OFFLINE_WINDOW_MS),
      this.ingestionStats(),
    ]);
    const sum = (keep: (group: AgentCountGroup) => boolean) =>
      groups.reduce((total, group) => (keep(group) ? total + group.count : total), 0);

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
      total: sum(() => true),
      byStatus: Object.fromEntries(
        AgentStatuses.map((status) => [status, sum((g) => g.status === status)]),
      ) as Record<AgentStatus, number>,
      byType: types.map((type) => ({
        type: type.type,
        displayName: type.displayName,
        count: sum((g) => g.type === type.type),
      })),
      byEnvironment: counted.map((environment) => ({
        environment: environment.name,
        count: sum((g) => g.environment === environment.name),
      })),
      environmentsTruncated: environments.length > counted.length,
      recentlyOffline: recentlyOffline && { windowMs: RECENT_OFFLINE_WINDOW_MS, ...recentlyOffline },
      ingestion: ingestion.stats,
      ingestionError: ingestion.error,
    };
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
