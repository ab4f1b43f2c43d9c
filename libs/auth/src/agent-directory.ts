import { JSONCodec, NatsConnection, Subscription } from 'nats';
import {
  AGENT_LOOKUP_MAX_ITEMS,
  AgentIdentityRecord,
  EventEnvelope,
  EventKinds,
  LookupAgentsReply,
  LookupAgentsRequest,
  Subjects,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { LookupBatcher } from './lookup-batcher';

export interface AgentDirectoryOptions {
  /** How long a known agent is reused; `agent.revoked` cuts it short. */
  ttlMs?: number;
  /** How long "no such agent" is remembered, so a flood of made-up ids costs one lookup each. */
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Entry = { until: number; record: AgentIdentityRecord | null };

const json = JSONCodec<EventEnvelope>();

/**
 * Who an agent is — its organisation, environment and key — by agent id, from the token service,
 * cached per process. Who may *speak* for an agent is settled by NATS itself (an agent's JWT lets it
 * publish only its own subjects), so the bus answers "is it the agent?" and this answers "whose agent
 * is it?". Misses arriving together share one `tokens.agents.lookup`; `agent.revoked` drops the entry.
 */
export class AgentDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<AgentIdentityRecord | null>>();
  private readonly batcher: LookupBatcher<string, AgentIdentityRecord | null>;
  private subscription?: Subscription;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    rpc: RpcClient,
    private readonly nc: NatsConnection,
    options: AgentDirectoryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 600_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 500_000;
    this.now = options.now ?? Date.now;
    this.batcher = new LookupBatcher(async (agentIds) => {
      const request: LookupAgentsRequest = { agentIds };
      const reply = await rpc.request<LookupAgentsReply>(Subjects.tokens.agents.lookup, request);
      return reply.agents.map((value) => ({ ok: true as const, value }));
    }, AGENT_LOOKUP_MAX_ITEMS);
  }

  /** Listens for revocations; call once before serving. */
  start(): void {
    this.subscription ??= this.nc.subscribe(Subjects.event(EventKinds.agentRevoked), {
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
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** The cached answer without I/O (`undefined`: not cached), so hot paths avoid an await per message. */
  peek(agentId: string): AgentIdentityRecord | null | undefined {
    const entry = this.entries.get(agentId);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(agentId);
      return undefined;
    }
    return entry.record;
  }

  /** The agent's record, or null when the platform never issued it an identity. */
  lookup(agentId: string): Promise<AgentIdentityRecord | null> {
    const cached = this.peek(agentId);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.inflight.get(agentId);
    if (!pending) {
      pending = this.batcher.lookup(agentId).then((record) => {
        this.remember(agentId, record);
        return record;
      });
      pending.finally(() => this.inflight.delete(agentId)).catch(() => undefined);
      this.inflight.set(agentId, pending);
    }
    return pending;
  }

  get size(): number {
    return this.entries.size;
  }

  private remember(agentId: string, record: AgentIdentityRecord | null): void {
    // Bounded: when full, the oldest insertion goes first (Map keeps insertion order).
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(agentId, { record, until: this.now() + (record ? this.ttlMs : this.negativeTtlMs) });
  }
}
