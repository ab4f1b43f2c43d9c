import { Injectable } from '@nestjs/common';
import { AgentRecord, AgentRefRequest, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';

/** A page names at most this many distinct agents; more are left without a hostname rather than slow it. */
const MAX_LOOKUPS = 100;

/**
 * Hostnames for agent ids, so that views which name an agent (alerts, recently offline) show the host, not
 * the id. One `fleet.agents.get` per distinct id, in parallel; an agent that is gone (or a failed lookup)
 * simply has no hostname: the id still identifies it.
 */
@Injectable()
export class AgentNames {
  constructor(private readonly rpc: RpcClient) {}

  async hostnames(organizationId: string, agentIds: (string | null)[]): Promise<Map<string, string>> {
    const ids = [...new Set(agentIds.filter((id): id is string => !!id))].slice(0, MAX_LOOKUPS);
    const found = await Promise.all(
      ids.map((agentId) =>
        this.rpc.request<AgentRecord, AgentRefRequest>(Subjects.fleet.get, { organizationId, agentId }).then(
          (agent) => [agentId, agent.hostname] as const,
          () => null,
        ),
      ),
    );
    return new Map(found.filter((entry): entry is readonly [string, string] => entry !== null));
  }
}
