import { Inject, Injectable } from '@nestjs/common';
import { AlertRuleKind, AlertState } from '@app/contracts';
import { Database, DATABASE } from '@app/persistence';
import { AgentPresenceRow, AlertingDB, AlertRow } from '../database';
import { Executor } from '../transactions';

export interface AlertFilter {
  state?: AlertState;
  ruleId?: string;
  agentId?: string;
  limit: number;
  offset: number;
}

/** The only place that speaks SQL about alerts, agent presence and rate-rule hits. */
@Injectable()
export class AlertsRepository {
  private readonly db: Executor;

  constructor(@Inject(DATABASE) database: Database<AlertingDB> | { db: Executor }) {
    this.db = database.db;
  }

  in(trx: Executor): AlertsRepository {
    return new AlertsRepository({ db: trx });
  }

  /** Inserts unless this rule already opened an alert for this event; true when inserted. */
  async insertOnce(row: AlertRow): Promise<boolean> {
    const result = await this.db
      .insertInto('alerts')
      .values(row)
      .onConflict((oc) => oc.columns(['rule_id', 'event_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  getById(organizationId: string, id: string): Promise<AlertRow | undefined> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** The rule's pending or firing alert, for one agent or (agentId null) for the rule as a whole. */
  findOpen(organizationId: string, ruleId: string, agentId: string | null): Promise<AlertRow | undefined> {
    let query = this.db
      .selectFrom('alerts')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('rule_id', '=', ruleId)
      .where('state', 'in', ['pending', 'firing']);
    query = agentId === null ? query.where('agent_id', 'is', null) : query.where('agent_id', '=', agentId);
    return query.executeTakeFirst();
  }

  /** An agent's pending or firing alerts of one kind that opened at or before `at`. */
  openForAgent(
    organizationId: string,
    agentId: string,
    kind: AlertRuleKind,
    at: number,
  ): Promise<AlertRow[]> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .where('kind', '=', kind)
      .where('state', 'in', ['pending', 'firing'])
      .where('opened_at', '<=', at)
      .execute();
  }

  /** Pending alerts whose delay has run out, oldest first. Scans every organisation: the scheduler's job. */
  due(now: number, limit: number): Promise<AlertRow[]> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('state', '=', 'pending')
      .where('due_at', '<=', now)
      .orderBy('due_at')
      .limit(limit)
      .execute();
  }

  /** Firing alerts of one kind across organisations (rate rules check whether they still hold). */
  firingOfKind(kind: AlertRuleKind, limit: number): Promise<AlertRow[]> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('state', '=', 'firing')
      .where('kind', '=', kind)
      .limit(limit)
      .execute();
  }

  /**
   * Moves an alert from one state to another only if it is still in `from`; true when it moved.
   * The condition makes a transition happen once even with several instances racing.
   */
  async transition(
    id: string,
    from: AlertState,
    to: AlertState,
    at: { fired_at?: number; resolved_at?: number },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('alerts')
      .set({ state: to, ...at })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Marks an open alert acknowledged once; true when this call did it. */
  async acknowledge(organizationId: string, id: string, at: number, by: string): Promise<boolean> {
    const result = await this.db
      .updateTable('alerts')
      .set({ acknowledged_at: at, acknowledged_by: by })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('state', 'in', ['pending', 'firing'])
      .where('acknowledged_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async list(organizationId: string, filter: AlertFilter): Promise<{ rows: AlertRow[]; total: number }> {
    let query = this.db.selectFrom('alerts').where('organization_id', '=', organizationId);
    if (filter.state) query = query.where('state', '=', filter.state);
    if (filter.ruleId) query = query.where('rule_id', '=', filter.ruleId);
    if (filter.agentId) query = query.where('agent_id', '=', filter.agentId);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('opened_at', 'desc')
        .orderBy('id')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /** Records the agent's latest offline or online instant (keeping the later one) and returns both. */
  async recordPresence(
    organizationId: string,
    agentId: string,
    change: { offlineAt: number } | { onlineAt: number },
  ): Promise<AgentPresenceRow> {
    const current = await this.db
      .selectFrom('agent_presence')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    const next: AgentPresenceRow = {
      organization_id: organizationId,
      agent_id: agentId,
      last_online_at: Math.max(current?.last_online_at ?? 0, 'onlineAt' in change ? change.onlineAt : 0),
      last_offline_at: Math.max(current?.last_offline_at ?? 0, 'offlineAt' in change ? change.offlineAt : 0),
    };
    await this.db
      .insertInto('agent_presence')
      .values(next)
      .onConflict((oc) =>
        oc.columns(['organization_id', 'agent_id']).doUpdateSet({
          last_online_at: next.last_online_at,
          last_offline_at: next.last_offline_at,
        }),
      )
      .execute();
    return next;
  }

  async recordHit(ruleId: string, eventId: string, at: number): Promise<void> {
    await this.db
      .insertInto('rule_hits')
      .values({ rule_id: ruleId, event_id: eventId, at })
      .onConflict((oc) => oc.columns(['rule_id', 'event_id']).doNothing())
      .execute();
  }

  async countHits(ruleId: string, from: number, to: number): Promise<number> {
    const row = await this.db
      .selectFrom('rule_hits')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('rule_id', '=', ruleId)
      .where('at', '>', from)
      .where('at', '<=', to)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async pruneHits(before: number): Promise<void> {
    await this.db.deleteFrom('rule_hits').where('at', '<', before).execute();
  }
}
