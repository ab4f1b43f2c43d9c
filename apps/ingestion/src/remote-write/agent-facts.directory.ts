import { JSONCodec, NatsConnection, Subscription } from 'nats';
import {
  AgentRecord,
  AgentRefRequest,
  DomainError,
  ErrorCodes,
  EventEnvelope,
  EventKinds,
  Subjects,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { Clock } from '@app/clock';

/** What the registry knows of an agent that remote-write puts on its series. */
export interface AgentFacts {
  agentType: string;
  hostname: string;
  labels: Record<string, string>;
}

/** Bounds the cache (≈ 200 B an entry): past it, the oldest entry goes. */
const MAX_ENTRIES = 200_000;

const json = JSONCodec<EventEnvelope>();

/**
 * An agent's type, hostname and labels, asked of provisioning (`fleet.agents.get`, the registry is their
 * one owner) once per agent and then cached for AGENT_CACHE_TTL_SECONDS: a fleet of 100,000 agents at the
 * default 10 min costs ~170 small requests/s, and most batches are judged without I/O. `agent.labels_changed`
 * and `agent.deleted` drop the entry at once, so a relabel shows on the next batch. The heartbeat carries
 * type and hostname but not labels, and events carry labels only when they change, so neither alone will do.
 * Provisioning unreachable: the lookup fails and the caller holds the batch; an agent the registry does not
 * know (deleted meanwhile): null, exported with its identity labels only.
 */
export class AgentFactsDirectory {
  private readonly entries = new Map<string, { facts: AgentFacts | null; until: number }>();
  private subscriptions: Subscription[] = [];

  constructor(
    private readonly rpc: RpcClient,
    private readonly nc: NatsConnection,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  start(): void {
    if (this.subscriptions.length) return;
    this.subscriptions = [EventKinds.agentLabelsChanged, EventKinds.agentDeleted].map((kind) =>
      this.nc.subscribe(Subjects.event(kind), {
        callback: (err, msg) => {
          if (err) return;
          try {
            const agentId = json.decode(msg.data).agentId;
            if (agentId) this.entries.delete(agentId);
            else this.entries.clear();
          } catch {
            this.entries.clear();
          }
        },
      }),
    );
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
  }

  async describe(organizationId: string, agentId: string): Promise<AgentFacts | null> {
    const now = this.clock.now();
    const cached = this.entries.get(agentId);
    if (cached && cached.until > now) return cached.facts;
    let facts: AgentFacts | null;
    try {
      const record = await this.rpc.request<AgentRecord, AgentRefRequest>(Subjects.fleet.get, {
        organizationId,
        agentId,
      });
      facts = { agentType: record.type, hostname: record.hostname, labels: record.labels ?? {} };
    } catch (error) {
      if (!(error instanceof DomainError && error.code === ErrorCodes.NOT_FOUND)) throw error;
      facts = null;
    }
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(agentId, { facts, until: now + this.ttlMs });
    return facts;
  }
}
