import { Injectable } from '@nestjs/common';
import { AgentRecord, AgentRefRequest, DomainError, ErrorCodes, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { Clock } from '@app/clock';

export interface AgentFacts {
  type: string;
  labels: Record<string, string>;
}

/** Agent records change rarely (labels, type never); a minute of staleness is fine for scoping alerts. */
const CACHE_TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * An agent's type and labels, asked of provisioning (the registry's owner) only when a rule is
 * scoped by them; events carry the environment but not these. An unreachable provisioning
 * service fails the lookup (the event is retried), an unknown agent is `null` (no rule matches).
 */
@Injectable()
export class AgentDirectory {
  private readonly cache = new Map<string, { facts: AgentFacts | null; until: number }>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
  ) {}

  async describe(organizationId: string, agentId: string): Promise<AgentFacts | null> {
    const key = `${organizationId}/${agentId}`;
    const now = this.clock.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.facts;
    let facts: AgentFacts | null;
    try {
      const record = await this.rpc.request<AgentRecord, AgentRefRequest>(Subjects.fleet.get, {
        organizationId,
        agentId,
      });
      facts = { type: record.type, labels: record.labels ?? {} };
    } catch (error) {
      if (!(error instanceof DomainError && error.code === ErrorCodes.NOT_FOUND)) throw error;
      facts = null;
    }
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { facts, until: now + CACHE_TTL_MS });
    return facts;
  }
}
