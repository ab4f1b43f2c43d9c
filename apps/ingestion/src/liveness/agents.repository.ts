import { Inject, Injectable } from '@nestjs/common';
import { sql, Transaction } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { AgentRow, IngestionDB } from '../database';

/** What one instance saw of an agent since its last flush. */
export interface SeenAgent {
  agentId: string;
  organizationId: string;
  environment: string;
  intervalSeconds: number;
  lastSeenAt: number;
}

/** An agent whose status this instance changed (and therefore must announce). */
export interface LivenessTransition {
  agentId: string;
  organizationId: string;
  environment: string;
  lastSeenAt: number;
}

/**
 * Runs inside the transaction that changed the statuses, so whatever it writes (the events, into
 * the outbox) commits or rolls back with them.
 */
export type OnTransitions = (
  trx: Transaction<IngestionDB>,
  transitions: LivenessTransition[],
) => Promise<unknown>;

/** 8 columns per row: 1,000 rows stay far below SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
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
          })),
        )
        .onConflict((oc) =>
          oc.column('agent_id').doUpdateSet({
            organization_id: sql.ref('excluded.organization_id'),
            environment: sql.ref('excluded.environment'),
            interval_seconds: sql.ref('excluded.interval_seconds'),
            // Instances flush out of order; last-seen only moves forward.
            last_seen_at: sql<number>`case when agents.last_seen_at is null or agents.last_seen_at < excluded.last_seen_at then excluded.last_seen_at else agents.last_seen_at end`,
          }),
        )
        .execute();
      const changed = await this.database.db.transaction().execute(async (trx) => {
        const rows = await trx
          .updateTable('agents')
          .set({ status: 'online', status_changed_at: now })
          .where(
            'agent_id',
            'in',
            chunk.map((a) => a.agentId),
          )
          .where('status', '<>', 'online')
          // A stale last-seen (a flush retried after a failure) must not revive an agent already past the threshold.
          .where(sql<boolean>`last_seen_at + interval_seconds * ${missed * 1000} >= ${now}`)
          .returning(['agent_id', 'organization_id', 'environment', 'last_seen_at'])
          .execute();
        const chunkTransitions = rows.map(toTransition);
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
        .where('status', '=', 'online')
        .where(sql<boolean>`last_seen_at + interval_seconds * ${missed * 1000} < ${now}`)
        .where(sql<boolean>`interval_seconds * ${missed * 1000} < ${now - observingSince}`)
        .returning(['agent_id', 'organization_id', 'environment', 'last_seen_at'])
        .execute();
      const transitions = rows.map(toTransition);
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

  /** Last heartbeat of each of `agentIds` that belongs to `organizationId` and was heard at all. */
  async lastSeen(organizationId: string, agentIds: string[]): Promise<Map<string, number>> {
    if (!agentIds.length) return new Map();
    const rows = await this.database.db
      .selectFrom('agents')
      .select(['agent_id', 'last_seen_at'])
      .where('organization_id', '=', organizationId)
      .where('agent_id', 'in', agentIds)
      .where('last_seen_at', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.agent_id, Number(r.last_seen_at)]));
  }

  async countByStatus(): Promise<{ online: number; tracked: number }> {
    const rows = await this.database.db
      .selectFrom('agents')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const online = Number(rows.find((r) => r.status === 'online')?.n ?? 0);
    const tracked = rows.reduce((sum, r) => sum + Number(r.n), 0);
    return { online, tracked };
  }
}

function toTransition(row: Pick<AgentRow, 'agent_id' | 'organization_id' | 'environment' | 'last_seen_at'>) {
  return {
    agentId: row.agent_id,
    organizationId: row.organization_id,
    environment: row.environment,
    lastSeenAt: Number(row.last_seen_at ?? 0),
  };
}
