import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql, Transaction } from 'kysely';
import { AgentCountGroup, AgentSortKey, AgentStatus } from '@app/contracts';
import { Database, DATABASE } from '@app/persistence';
import { AgentRow, ProvisioningDB } from '../database';

export interface AgentFilter {
  environment?: string;
  status?: AgentStatus;
  type?: string;
  label?: { key: string; value: string };
  /** Case-insensitive substring of the hostname or the id. */
  search?: string;
  sort?: { key: AgentSortKey; descending: boolean };
  limit: number;
  offset: number;
}

/** What enrollment changes on an existing agent's record. */
export interface ReenrollChanges {
  type: string;
  hostname: string;
  os: string;
  version: string;
  labels: Record<string, string>;
  enrollmentTokenId: string;
}

/** Statuses ingestion's events set, from the mildest to the gravest (the order that breaks ties). */
export const HEARD_STATUSES = ['online', 'degraded', 'stopped', 'offline'] as const;
export type HeardStatus = (typeof HEARD_STATUSES)[number];

/** `%`, `_` and the escape character itself are literal in a search. */
const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/** SQL for the agent registry. Every method takes the organisation: another tenant's row is simply not found. */
@Injectable()
export class AgentsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<ProvisioningDB>) {}

  get(organizationId: string, agentId: string): Promise<AgentRow | undefined> {
    return this.database.db
      .selectFrom('agents')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .executeTakeFirst();
  }

  findByHost(organizationId: string, environment: string, hostId: string): Promise<AgentRow | undefined> {
    return this.database.db
      .selectFrom('agents')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('environment', '=', environment)
      .where('host_id', '=', hostId)
      .executeTakeFirst();
  }

  /** Inserts a new agent with its labels; false when the host is already registered (a racing enrollment won). */
  async insert(row: AgentRow): Promise<boolean> {
    return this.database.db.transaction().execute(async (tx) => {
      const result = await tx
        .insertInto('agents')
        .values(row)
        .onConflict((oc) => oc.columns(['organization_id', 'environment', 'host_id']).doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await this.writeLabels(
        tx,
        row.organization_id,
        row.id,
        JSON.parse(row.labels) as Record<string, string>,
      );
      return true;
    });
  }

  async updateOnReenroll(organizationId: string, agentId: string, changes: ReenrollChanges): Promise<void> {
    await this.database.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('agents')
        .set({
          type: changes.type,
          hostname: changes.hostname,
          os: changes.os,
          version: changes.version,
          labels: JSON.stringify(changes.labels),
          enrollment_token_id: changes.enrollmentTokenId,
        })
        .where('organization_id', '=', organizationId)
        .where('id', '=', agentId)
        .execute();
      await tx.deleteFrom('agent_labels').where('agent_id', '=', agentId).execute();
      await this.writeLabels(tx, organizationId, agentId, changes.labels);
    });
  }

  async setIdentity(organizationId: string, agentId: string, identityId: string): Promise<void> {
    await this.database.db
      .updateTable('agents')
      .set({ identity_id: identityId })
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .execute();
  }

  async markRevoked(
    organizationId: string,
    agentId: string,
    at: number,
    db: Kysely<ProvisioningDB> = this.database.db,
  ): Promise<void> {
    await db
      .updateTable('agents')
      .set({ status: 'revoked', revoked_at: at })
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .execute();
  }

  /**
   * Applies a liveness or health event unless the agent is revoked or the event is older than what is
   * recorded. On a tie (two events of one heartbeat) the graver status wins — offline over stopped over
   * degraded over online — so a redelivered `online` for that same heartbeat cannot bring a silent agent
   * back, nor hide that it came back unwell. Idempotent.
   */
  async applyLiveness(
    organizationId: string,
    agentId: string,
    status: HeardStatus,
    lastSeenAt: number,
  ): Promise<boolean> {
    const yieldsTo = HEARD_STATUSES.slice(0, HEARD_STATUSES.indexOf(status) + 1);
    const result = await this.database.db
      .updateTable('agents')
      .set({ status, last_seen_at: lastSeenAt })
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .where('status', '!=', 'revoked')
      .where((eb) =>
        eb.or([
          eb('last_seen_at', 'is', null),
          eb('last_seen_at', '<', lastSeenAt),
          eb.and([eb('last_seen_at', '=', lastSeenAt), eb('status', 'in', ['pending', ...yieldsTo])]),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The version the agent's heartbeats now report (`agent.version_changed`). */
  async applyVersion(organizationId: string, agentId: string, version: string): Promise<boolean> {
    const result = await this.database.db
      .updateTable('agents')
      .set({ version })
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** One grouped query: agents per environment × type × status (the fleet overview's every count). */
  async countGrouped(organizationId: string): Promise<AgentCountGroup[]> {
    const rows = await this.database.db
      .selectFrom('agents')
      .where('organization_id', '=', organizationId)
      .select(['environment', 'type', 'status', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy(['environment', 'type', 'status'])
      .execute();
    return rows.map((row) => ({
      environment: row.environment,
      type: row.type,
      status: row.status as AgentStatus,
      count: Number(row.count),
    }));
  }

  async list(organizationId: string, filter: AgentFilter): Promise<{ rows: AgentRow[]; total: number }> {
    let query = this.database.db.selectFrom('agents').where('organization_id', '=', organizationId);
    if (filter.environment) query = query.where('environment', '=', filter.environment);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.type) query = query.where('type', '=', filter.type);
    if (filter.search) {
      const pattern = `%${escapeLike(filter.search.toLowerCase())}%`;
      query = query.where(
        sql<boolean>`(lower(hostname) like ${pattern} escape '\\' or lower(id) like ${pattern} escape '\\')`,
      );
    }
    if (filter.label) {
      const { key, value } = filter.label;
      query = query.where('id', 'in', (eb) =>
        eb
          .selectFrom('agent_labels')
          .select('agent_id')
          .where('organization_id', '=', organizationId)
          .where('key', '=', key)
          .where('value', '=', value),
      );
    }
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy(filter.sort?.key ?? 'first_seen_at', (filter.sort?.descending ?? true) ? 'desc' : 'asc')
        .orderBy('id')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  }

  private async writeLabels(
    tx: Transaction<ProvisioningDB>,
    organizationId: string,
    agentId: string,
    labels: Record<string, string>,
  ): Promise<void> {
    const rows = Object.entries(labels).map(([key, value]) => ({
      agent_id: agentId,
      organization_id: organizationId,
      key,
      value,
    }));
    if (rows.length) await tx.insertInto('agent_labels').values(rows).execute();
  }
}
