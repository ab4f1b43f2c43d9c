import { Injectable, Logger } from '@nestjs/common';
import { AgentRecord, AgentsLastSeenResult, ListAgentsRequest, Page } from '@app/contracts';
import { FleetClient } from './fleet.client';

/** The ingestion lookup is an improvement, not a dependency: a list never waits long for it. */
const LAST_SEEN_TIMEOUT_MS = 1000;

/**
 * Agents as the API shows them: the registry's record (provisioning) with `lastSeenAt` brought
 * up to date from ingestion, which hears every heartbeat (the registry only records status
 * changes), and ingestion's health of the last heartbeat (reasons, components, version). One request per page. When ingestion does not answer, the registry's value stands.
 */
@Injectable()
export class AgentsReader {
  private readonly logger = new Logger(AgentsReader.name);

  constructor(private readonly fleet: FleetClient) {}

  async list(request: ListAgentsRequest): Promise<Page<AgentRecord>> {
    const page = await this.fleet.listAgents(request);
    return { ...page, items: await this.withLastSeen(request.organizationId, page.items) };
  }

  async get(organizationId: string, agentId: string): Promise<AgentRecord> {
    const [agent] = await this.withLastSeen(organizationId, [
      await this.fleet.getAgent(organizationId, agentId),
    ]);
    return agent;
  }

  private async withLastSeen(organizationId: string, agents: AgentRecord[]): Promise<AgentRecord[]> {
    if (!agents.length) return agents;
    let heard: AgentsLastSeenResult;
    try {
      heard = await this.fleet.lastSeen(
        { organizationId, agentIds: agents.map((a) => a.id) },
        LAST_SEEN_TIMEOUT_MS,
      );
    } catch (error) {
      this.logger.debug({ err: error }, 'last-seen lookup failed; showing the registry values');
      return agents;
    }
    return agents.map((agent) => {
      const at = heard.lastSeen[agent.id];
      const health = heard.health?.[agent.id] ?? null;
      const registry = agent.lastSeenAt ? Date.parse(agent.lastSeenAt) : 0;
      const seen =
        at !== undefined && at > registry ? { ...agent, lastSeenAt: new Date(at).toISOString() } : agent;
      return { ...seen, health };
    });
  }
}
