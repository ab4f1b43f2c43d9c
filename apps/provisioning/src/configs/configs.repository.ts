import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { AgentConfigStatusRow, AgentRow, ConfigVersionRow, ProvisioningDB } from '../database';

/** The agent facts configuration needs: where it lives and whether it may still be configured. */
export type ConfigAgentRow = Pick<AgentRow, 'id' | 'organization_id' | 'environment' | 'status'>;

/** SQL for configuration versions and agents' reported config state. Every query but one is org-scoped. */
@Injectable()
export class ConfigsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<ProvisioningDB>) {}

  /**
   * The next version of the environment, atomically (an upsert that increments and returns the
   * counter): two concurrent saves get two numbers, on SQLite and on PostgreSQL (the row is locked).
   */
  async nextVersion(
    trx: Kysely<ProvisioningDB>,
    organizationId: string,
    environment: string,
  ): Promise<number> {
    const row = await trx
      .insertInto('config_sequences')
      .values({ organization_id: organizationId, environment, last_version: 1 })
      .onConflict((oc) =>
        oc
          .columns(['organization_id', 'environment'])
          .doUpdateSet({ last_version: sql<number>`config_sequences.last_version + 1` }),
      )
      .returning('last_version')
      .executeTakeFirstOrThrow();
    return Number(row.last_version);
  }

  async insertVersion(trx: Kysely<ProvisioningDB>, row: ConfigVersionRow): Promise<void> {
    await trx.insertInto('config_versions').values(row).execute();
  }

  /** The environment's configs, newest first (`limit` 1: the current one). */
  environmentVersions(
    organizationId: string,
    environment: string,
    limit: number,
  ): Promise<ConfigVersionRow[]> {
    return this.database.db
      .selectFrom('config_versions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('environment', '=', environment)
      .where('agent_id', 'is', null)
      .orderBy('version', 'desc')
      .limit(limit)
      .execute();
  }

  /** The agent's latest override row (its settings are null when the override was removed). */
  latestOverride(organizationId: string, agentId: string): Promise<ConfigVersionRow | undefined> {
    return this.database.db
      .selectFrom('config_versions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Every agent's latest override row in the environment, in one query. */
  latestOverrides(organizationId: string, environment: string): Promise<ConfigVersionRow[]> {
    return this.database.db
      .selectFrom('config_versions as cv')
      .selectAll('cv')
      .where('cv.organization_id', '=', organizationId)
      .where('cv.environment', '=', environment)
      .where('cv.agent_id', 'is not', null)
      .where(({ eb, selectFrom }) =>
        eb(
          'cv.version',
          '=',
          selectFrom('config_versions as latest')
            .select((e) => e.fn.max('latest.version').as('version'))
            .where('latest.organization_id', '=', organizationId)
            .whereRef('latest.agent_id', '=', 'cv.agent_id'),
        ),
      )
      .execute();
  }

  agent(organizationId: string, agentId: string): Promise<ConfigAgentRow | undefined> {
    return this.database.db
      .selectFrom('agents')
      .select(['id', 'organization_id', 'environment', 'status'])
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .executeTakeFirst();
  }

  agents(organizationId: string, agentIds: string[]): Promise<ConfigAgentRow[]> {
    if (agentIds.length === 0) return Promise.resolve([]);
    return this.database.db
      .selectFrom('agents')
      .select(['id', 'organization_id', 'environment', 'status'])
      .where('organization_id', '=', organizationId)
      .where('id', 'in', agentIds)
      .execute();
  }

  /**
   * The agent that asks on `agents.<env>.<agentId>.config`. Not scoped by organisation, deliberately:
   * the subject is the caller's identity (NATS lets only that agent publish there) and the organisation
   * is what its record says, never what a message claims.
   */
  agentOnSubject(environment: string, agentId: string): Promise<ConfigAgentRow | undefined> {
    return this.database.db
      .selectFrom('agents')
      .select(['id', 'organization_id', 'environment', 'status'])
      .where('id', '=', agentId)
      .where('environment', '=', environment)
      .executeTakeFirst();
  }

  /** Agents a push of the environment's config reaches: all but the revoked. */
  configurableAgents(organizationId: string, environment: string): Promise<{ id: string }[]> {
    return this.database.db
      .selectFrom('agents')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('environment', '=', environment)
      .where('status', '!=', 'revoked')
      .execute();
  }

  statuses(organizationId: string, agentIds: string[]): Promise<AgentConfigStatusRow[]> {
    if (agentIds.length === 0) return Promise.resolve([]);
    return this.database.db
      .selectFrom('agent_config_status')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('agent_id', 'in', agentIds)
      .execute();
  }

  /** Records an agent's report: the version it now runs, or the one it rejected and why. */
  async recordReport(
    organizationId: string,
    agentId: string,
    report: { version: number; applied: boolean; error: string | null },
    at: number,
  ): Promise<void> {
    const change = report.applied
      ? { applied_version: report.version }
      : { failed_version: report.version, error: report.error };
    await this.database.db
      .insertInto('agent_config_status')
      .values({
        agent_id: agentId,
        organization_id: organizationId,
        applied_version: null,
        failed_version: null,
        error: null,
        ...change,
        reported_at: at,
      })
      .onConflict((oc) =>
        oc
          .column('agent_id')
          .doUpdateSet({ ...change, reported_at: at })
          .where('agent_config_status.organization_id', '=', organizationId),
      )
      .execute();
  }
}
