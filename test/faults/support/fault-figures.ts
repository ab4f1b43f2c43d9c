import { JSONCodec, NatsConnection } from 'nats';
import { Pool } from 'pg';
import { EventEnvelope, EventKinds, Subjects } from '@app/contracts';
import { storedEvents } from '@app/testing';
import { FleetAgent } from './fleet';
import { decodeChunk } from '../../../apps/ingestion/src/metrics/chunk-codec';

/** One fault: when its window opened, when the fault hit, when it was repaired, when the window closed. */
export interface FaultWindow {
  fault: string;
  start: number;
  faultAt: number;
  repairedAt: number;
  end: number;
}

export interface AgentFigures {
  agent: string;
  /** The node the agent was connected to when the fault hit. */
  node: string;
  published: number;
  stored: number;
  duplicates: number;
  gaps: number;
  offline: number;
  online: number;
  /** From the fault until the first batch collected after it was stored. */
  metricsFailoverMs: number;
}

export interface FaultFigures {
  window: FaultWindow;
  agents: AgentFigures[];
  /** Requests to the gateways that stayed up (the survivors). */
  requests: { sent: number; failed: number; failoverMs: number };
  /** From the repair until every stream had three current replicas again. */
  r3Ms: number;
  note: string;
}

/** The metrics audit's row (PostgreSQL returns bigints as strings). */
export interface AuditState {
  audited_seq: string | number;
  lease_owner: string | null;
  lease_until: string | number | null;
}

/** What ingestion stored, read from its PostgreSQL schema the way an operator would check it. */
export class StoredBatches {
  private readonly pool: Pool;

  constructor(databaseUrl: string) {
    this.pool = new Pool({ connectionString: databaseUrl, max: 2 });
  }

  /** Each agent's stored batches: seq → when ingestion committed it. */
  async batches(agentIds: string[]): Promise<Map<string, Map<number, number>>> {
    const result = await this.pool.query<{ agent_id: string; seq: string; stored_at: string }>(
      'select agent_id, seq, stored_at from ingestion.metric_batches where agent_id = any($1)',
      [agentIds],
    );
    const byAgent = new Map(agentIds.map((id) => [id, new Map<number, number>()]));
    for (const row of result.rows) byAgent.get(row.agent_id)?.set(Number(row.seq), Number(row.stored_at));
    return byAgent;
  }

  /** Samples stored more than once (same agent, series and timestamp): a batch written twice. */
  async duplicateSamples(agentIds: string[]): Promise<Map<string, number>> {
    const result = await this.pool.query<{ agent_id: string; hour_start: string; data: Buffer }>(
      'select agent_id, hour_start, data from ingestion.metric_chunks where agent_id = any($1)',
      [agentIds],
    );
    const seen = new Map<string, { samples: number; distinct: Set<string> }>();
    for (const row of result.rows) {
      let agent = seen.get(row.agent_id);
      if (!agent) seen.set(row.agent_id, (agent = { samples: 0, distinct: new Set() }));
      const into = agent;
      decodeChunk(row.data, Number(row.hour_start), (seriesId, ts) => {
        into.samples++;
        into.distinct.add(`${seriesId}:${ts}`);
      });
    }
    return new Map([...seen].map(([agentId, a]) => [agentId, a.samples - a.distinct.size]));
  }

  /** Where the metrics audit stands: its position in AGENT_METRICS and who holds its lease until when. */
  async auditState(): Promise<AuditState[]> {
    const result = await this.pool.query<AuditState>(
      'select audited_seq, lease_owner, lease_until from ingestion.metrics_audit',
    );
    return result.rows;
  }

  /** The stream sequence the metrics audit has checked up to (0 before its first pass). */
  async auditPosition(): Promise<number> {
    return Number((await this.auditState())[0]?.audited_seq ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

interface Probe {
  at: number;
  gateway: string;
  ok: boolean;
}

/**
 * Asks every gateway four times a second for the agents list and the alert rules (tokens, provisioning,
 * ingestion and alerting behind them), each request on its own, and records the outcome.
 */
export class RequestProbe {
  private readonly probes: Probe[] = [];
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private turn = 0;

  constructor(
    private readonly gateways: Record<string, string>,
    private readonly apiKey: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      const path = this.turn++ % 2 ? '/api/v1/alerts/rules' : '/api/v1/agents?limit=10';
      for (const [gateway, url] of Object.entries(this.gateways)) {
        const at = Date.now();
        const request = fetch(`${url}${path}`, {
          headers: { authorization: `Bearer ${this.apiKey}` },
          signal: AbortSignal.timeout(10_000),
        })
          .then(async (response) => {
            await response.arrayBuffer();
            this.record({ at, gateway, ok: response.ok });
          })
          .catch(() => this.record({ at, gateway, ok: false }))
          .finally(() => this.inFlight.delete(request));
        this.inFlight.add(request);
      }
    }, 250);
  }

  private record(probe: Probe): void {
    this.probes.push(probe);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  /** Requests sent to `gateways` within the window, and how long after `faultAt` the last one failed. */
  figures(gateways: string[], from: number, to: number, faultAt: number) {
    const sent = this.probes.filter((p) => gateways.includes(p.gateway) && p.at >= from && p.at <= to);
    const failed = sent.filter((p) => !p.ok);
    const lastFailure = Math.max(faultAt, ...failed.map((p) => p.at));
    return { sent: sent.length, failed: failed.length, failoverMs: lastFailure - faultAt };
  }

  /** Whether every request to `gateway` sent in [from, to] succeeded (and at least one was sent). */
  allAnswered(gateway: string, from: number, to: number): boolean {
    const sent = this.probes.filter((p) => p.gateway === gateway && p.at >= from && p.at <= to);
    return sent.length > 0 && sent.every((p) => p.ok);
  }
}

/**
 * A live subscriber on `events.>` (on the node no fault touches), once per event id: what an internal
 * consumer sees while a fault lasts, when reading the stream back may not answer (an ephemeral consumer
 * can be placed on the node that is cut off).
 */
export class LiveEvents {
  private readonly seen = new Map<string, EventEnvelope>();

  constructor(nc: NatsConnection) {
    nc.subscribe(Subjects.eventsWildcard, {
      callback: (error, msg) => {
        if (error) return;
        try {
          const event = JSONCodec<EventEnvelope>().decode(msg.data);
          this.seen.set(event.id, event);
        } catch {
          // Not an envelope: the counts the test waits for will show what is missing.
        }
      },
    });
  }

  /** How many `kind` events each agent had since `from`. */
  count(kind: string, from: number): Map<string, number> {
    const byAgent = new Map<string, number>();
    for (const event of this.seen.values())
      if (event.kind === kind && event.agentId && Date.parse(event.occurredAt) >= from)
        byAgent.set(event.agentId, (byAgent.get(event.agentId) ?? 0) + 1);
    return byAgent;
  }
}

/** agent.offline and agent.online events the EVENTS stream stored (once per id), per agent, within the window. */
export async function livenessEvents(
  nc: NatsConnection,
  from: number,
  to: number,
): Promise<{ offline: Map<string, number>; online: Map<string, number> }> {
  const count = (events: EventEnvelope[]) => {
    const byAgent = new Map<string, number>();
    for (const event of events) {
      const at = Date.parse(event.occurredAt);
      if (at < from || at > to || !event.agentId) continue;
      byAgent.set(event.agentId, (byAgent.get(event.agentId) ?? 0) + 1);
    }
    return byAgent;
  };
  return {
    offline: count(await storedEvents(nc, EventKinds.agentOffline)),
    online: count(await storedEvents(nc, EventKinds.agentOnline)),
  };
}

/** Per agent: what it numbered in the window, what was stored of it, gaps, duplicates, failover. */
export function agentFigures(
  agent: FleetAgent,
  node: string,
  window: FaultWindow,
  stored: Map<number, number>,
  duplicates: number,
  events: { offline: Map<string, number>; online: Map<string, number> },
): AgentFigures {
  const published = agent.published.filter((b) => b.at >= window.start && b.at <= window.end);
  const storedOfThem = published.filter((b) => stored.has(b.seq));
  const firstAfter = agent.published.find((b) => b.at >= window.faultAt && stored.has(b.seq));
  return {
    agent: agent.name,
    node,
    published: published.length,
    stored: storedOfThem.length,
    duplicates,
    gaps: published.length - storedOfThem.length,
    offline: events.offline.get(agent.id) ?? 0,
    online: events.online.get(agent.id) ?? 0,
    metricsFailoverMs: firstAfter ? stored.get(firstAfter.seq)! - window.faultAt : Number.NaN,
  };
}

const seconds = (ms: number) => (Number.isNaN(ms) ? '—' : (ms / 1000).toFixed(1));

/** The figures as Markdown: one row per fault and agent, then one per fault for requests and streams. */
export function renderFigures(all: FaultFigures[]): string {
  const lines = [
    '| fault | agent (node) | published | stored | duplicates | gaps | agent.offline | agent.online | metrics flowing again after (s) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const figures of all)
    for (const a of figures.agents)
      lines.push(
        `| ${figures.window.fault} | ${a.agent} (${a.node}) | ${a.published} | ${a.stored} | ${a.duplicates} | ${a.gaps} | ${a.offline} | ${a.online} | ${seconds(a.metricsFailoverMs)} |`,
      );
  lines.push(
    '',
    '| fault | fault lasted (s) | requests to survivors | failed | error rate | requests answered again after (s) | streams back at R3 after repair (s) | note |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const f of all) {
    const rate = f.requests.sent ? ((100 * f.requests.failed) / f.requests.sent).toFixed(1) : '—';
    lines.push(
      `| ${f.window.fault} | ${seconds(f.window.repairedAt - f.window.faultAt)} | ${f.requests.sent} | ${f.requests.failed} | ${rate} % | ${seconds(f.requests.failoverMs)} | ${seconds(f.r3Ms)} | ${f.note} |`,
    );
  }
  return lines.join('\n');
}
