import { Inject, Injectable } from '@nestjs/common';
import { sql, Transaction } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { ComponentHealth, HealthReason, SourceHealth } from '@app/contracts';
import { AgentRow, AgentStatus, IngestionDB } from '../database';
import { ReportedState } from '../health/heartbeat-health';

/** The health JSON column: the rules' verdict, and the sources as the agent reported them. */
export interface StoredHealth {
  reasons: HealthReason[];
  components: ComponentHealth[];
  sources?: SourceHealth[];
}

/** What one instance saw of an agent since its last flush. */
export interface SeenAgent {
  agentId: string;
  organizationId: string;
  environment: string;
  intervalSeconds: number;
  lastSeenAt: number;
  /** From the newest heartbeat (see assessHeartbeat). */
  reportedState: ReportedState;
  /** Stored as JSON. */
  health: StoredHealth;
  version: string;
}

/** What ingestion knows of an agent for the API (see AgentsLastSeenResult). */
export interface HeardAgent {
  agentId: string;
  lastSeenAt: number;
  health: string | null;
  version: string | null;
}

/** Which change a transition is: the status it reached, or a new version. */
export type TransitionKind = 'online' | 'offline' | 'degraded' | 'recovered' | 'stopped' | 'version';

/** An agent whose status (or announced version) this instance changed, and therefore must announce. */
export interface LivenessTransition {
  kind: TransitionKind;
  agentId: string;
  organizationId: string;
  environment: string;
  lastSeenAt: number;
  /** `degraded`: the reasons of the heartbeat that turned it. */
  reasons?: HealthReason[];
  /** `version`: the new and the previously announced one. */
  version?: string;
  previousVersion?: string | null;
}

/**
 * Runs inside the transaction that changed the statuses, so whatever it writes (the events, into
 * the outbox) commits or rolls back with them.
 */
export type OnTransitions = (
  trx: Transaction<IngestionDB>,
  transitions: LivenessTransition[],
) => Promise<unknown>;

/**
 * The status changes a flush makes, in this order, each one conditional UPDATE (a compare-and-set):
 * from which statuses, on which reported states, to which status. Degraded → online is `recovered`.
 * An agent back from offline, stopped or unknown is `online` whatever it reports, and, when it
 * reports trouble, `degraded` by the next step: two facts, two events.
 */
const FLUSH_TRANSITIONS: {
  kind: TransitionKind;
  from: AgentStatus[];
  reported: ReportedState[];
  to: AgentStatus;
}[] = [
  {
    kind: 'stopped',
    from: ['unknown', 'online', 'degraded', 'offline'],
    reported: ['stopping'],
    to: 'stopped',
  },
  { kind: 'recovered', from: ['degraded'], reported: ['ok'], to: 'online' },
  { kind: 'online', from: ['unknown', 'offline', 'stopped'], reported: ['ok', 'degraded'], to: 'online' },
  { kind: 'degraded', from: ['online'], reported: ['degraded'], to: 'degraded' },
];

/** 12 columns per row: 1,000 rows stay far below SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const UPSERT_CHUNK_ROWS = 1000;

@Injectable()
export class AgentsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<IngestionDB>) {}

  /**
   * Writes last-seen for many agents at once and flips to online those whose last-seen is
   * within the offline threshold. The flip is a conditional UPDATE … RETURNING: when several
   * instances flush the same agent, the database changes the row once and only that instance
   * gets it back. The upsert autocommits; the flip and `onTransitions` share one short
   * transaction, so a status change is never committed without its event.
   */
  async recordSeen(
    agents: SeenAgent[],
    now: number,
    missed: number,
    onTransitions: OnTransitions,
  ): Promise<LivenessTransition[]> {
    const transitions: LivenessTransition[] = [];
    for (let i = 0; i < agents.length; i += UPSERT_CHUNK_ROWS) {
      const chunk = agents.slice(i, i + UPSERT_CHUNK_ROWS);
      await this.database.db
        .insertInto('agents')
        .values(
          chunk.map((a) => ({
            agent_id: a.agentId,
            organization_id: a.organizationId,
            environment: a.environment,
            interval_seconds: a.intervalSeconds,
            last_seen_at: a.lastSeenAt,
            status: 'unknown' as const,
            status_changed_at: null,
            first_seen_at: a.lastSeenAt,
            reported_state: a.reportedState,
            health: JSON.stringify(a.health),
            version: a.version,
          })),
        )
        .onConflict((oc) =>
          oc.column('agent_id').doUpdateSet({
            organization_id: sql.ref('excluded.organization_id'),
            environment: sql.ref('excluded.environment'),
            interval_seconds: sql.ref('excluded.interval_seconds'),
            // Instances flush out of order; last-seen only moves forward, and what it reported with it.
            last_seen_at: sql<number>`case when agents.last_seen_at is null or agents.last_seen_at < excluded.last_seen_at then excluded.last_seen_at else agents.last_seen_at end`,
            reported_state: newest('reported_state'),
            health: newest('health'),
            version: newest('version'),
          }),
        )
        .execute();
      const ids = chunk.map((a) => a.agentId);
      const changed = await this.database.db.transaction().execute(async (trx) => {
        const chunkTransitions: LivenessTransition[] = [];
        for (const step of FLUSH_TRANSITIONS) {
          const rows = await trx
            .updateTable('agents')
            .set({ status: step.to, status_changed_at: now })
            .where('agent_id', 'in', ids)
            .where('status', 'in', step.from)
            // Rows written before health was tracked report nothing: they count as ok.
            .where(sql<string>`coalesce(reported_state, 'ok')`, 'in', step.reported)
            // A stale last-seen (a flush retried after a failure) must not revive an agent already past the threshold.
            .where(sql<boolean>`last_seen_at + interval_seconds * ${missed * 1000} >= ${now}`)
            .returning(['agent_id', 'organization_id', 'environment', 'last_seen_at', 'health'])
            .execute();
          chunkTransitions.push(...rows.map((row) => toTransition(step.kind, row)));
        }
        chunkTransitions.push(...(await this.announceVersions(trx, ids)));
        if (chunkTransitions.length) await onTransitions(trx, chunkTransitions);
        return chunkTransitions;
      });
      transitions.push(...changed);
    }
    return transitions;
  }

  /**
   * Marks offline every online agent silent for `missed` of its intervals, counted from its last
   * heartbeat or from `observingSince` (since when the caller can hear heartbeats), whichever is
   * later. One UPDATE: with several instances sweeping at once each row changes once, and only the
   * instance whose UPDATE changed it sees it in RETURNING (and writes its events, in the same transaction).
   */
  async markSilentOffline(
    now: number,
    missed: number,
    observingSince: number,
    onTransitions: OnTransitions,
  ): Promise<LivenessTransition[]> {
    return this.database.db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable('agents')
        .set({ status: 'offline', status_changed_at: now })
        // A stopped agent said it was going: its silence is expected, not an outage.
        .where('status', 'in', ['online', 'degraded'])
        .where(sql<boolean>`last_seen_at + interval_seconds * ${missed * 1000} < ${now}`)
        .where(sql<boolean>`interval_seconds * ${missed * 1000} < ${now - observingSince}`)
        .returning(['agent_id', 'organization_id', 'environment', 'last_seen_at', 'health'])
        .execute();
      const transitions = rows.map((row) => toTransition('offline', row));
      if (transitions.length) await onTransitions(trx, transitions);
      return transitions;
    });
  }

  /** Agents known from metrics before any heartbeat: registered, status unknown. */
  async registerIfMissing(
    agents: { agentId: string; organizationId: string; environment: string }[],
    defaultIntervalSeconds: number,
    now: number,
  ): Promise<void> {
    if (!agents.length) return;
    await this.database.db
      .insertInto('agents')
      .values(
        agents.map((a) => ({
          agent_id: a.agentId,
          organization_id: a.organizationId,
          environment: a.environment,
          interval_seconds: defaultIntervalSeconds,
          last_seen_at: null,
          status: 'unknown' as const,
          status_changed_at: null,
          first_seen_at: now,
        })),
      )
      .onConflict((oc) => oc.column('agent_id').doNothing())
      .execute();
  }

  /** Owner-scoped lookup: another organisation's agent is simply not found. */
  async find(organizationId: string, agentId: string): Promise<AgentRow | undefined> {
    return this.database.db
      .selectFrom('agents')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
  }

  /** Last heartbeat, health and version of each of `agentIds` that belongs to `organizationId` and was heard at all. */
  async lastSeen(organizationId: string, agentIds: string[]): Promise<HeardAgent[]> {
    if (!agentIds.length) return [];
    const rows = await this.database.db
      .selectFrom('agents')
      .select(['agent_id', 'last_seen_at', 'health', 'version'])
      .where('organization_id', '=', organizationId)
      .where('agent_id', 'in', agentIds)
      .where('last_seen_at', 'is not', null)
      .execute();
    return rows.map((r) => ({
      agentId: r.agent_id,
      lastSeenAt: Number(r.last_seen_at),
      health: r.health,
      version: r.version,
    }));
  }

  /**
   * Announces the versions of `agentIds` that changed since last announced: read what differs, then
   * a compare-and-set per changed agent on the old value, so across instances only one announces it.
   * Versions rarely change, so the per-row statements are few.
   */
  private async announceVersions(
    trx: Transaction<IngestionDB>,
    agentIds: string[],
  ): Promise<LivenessTransition[]> {
    const changed = await trx
      .selectFrom('agents')
      .select(['agent_id', 'version', 'announced_version'])
      .where('agent_id', 'in', agentIds)
      .where('version', 'is not', null)
      .where(sql<boolean>`coalesce(announced_version, '') <> version`)
      .execute();
    const transitions: LivenessTransition[] = [];
    for (const row of changed) {
      const updated = await trx
        .updateTable('agents')
        .set({ announced_version: row.version })
        .where('agent_id', '=', row.agent_id)
        .where(sql<boolean>`coalesce(announced_version, '') = ${row.announced_version ?? ''}`)
        .returning(['agent_id', 'organization_id', 'environment', 'last_seen_at', 'health', 'version'])
        .executeTakeFirst();
      if (updated)
        transitions.push({
          ...toTransition('version', updated),
          version: updated.version ?? '',
          previousVersion: row.announced_version,
        });
    }
    return transitions;
  }

  async countByStatus(): Promise<{ online: number; tracked: number }> {
    const rows = await this.database.db
      .selectFrom('agents')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    // Online here means heartbeating: degraded agents are alive too.
    const online = rows
      .filter((r) => r.status === 'online' || r.status === 'degraded')
      .reduce((sum, r) => sum + Number(r.n), 0);
    const tracked = rows.reduce((sum, r) => sum + Number(r.n), 0);
    return { online, tracked };
  }
}

/** Newest-wins for a column written with last-seen: instances flush out of order. */
function newest(column: 'reported_state' | 'health' | 'version') {
  return sql<string>`case when agents.last_seen_at is null or agents.last_seen_at <= excluded.last_seen_at then excluded.${sql.ref(column)} else agents.${sql.ref(column)} end`;
}

type TransitionRow = Pick<
  AgentRow,
  'agent_id' | 'organization_id' | 'environment' | 'last_seen_at' | 'health'
>;

function toTransition(kind: TransitionKind, row: TransitionRow): LivenessTransition {
  const transition: LivenessTransition = {
    kind,
    agentId: row.agent_id,
    organizationId: row.organization_id,
    environment: row.environment,
    lastSeenAt: Number(row.last_seen_at ?? 0),
  };
  if (kind === 'degraded') transition.reasons = parseHealth(row.health).reasons;
  return transition;
}

/** The stored health JSON; a row written before health was tracked has none. */
export function parseHealth(text: string | null): StoredHealth {
  if (!text) return { reasons: [], components: [] };
  return JSON.parse(text) as StoredHealth;
}
