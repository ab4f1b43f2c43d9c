import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { FleetSettingsRow, ProvisioningDB } from '../database';

/** SQL of the per-organisation fleet settings. */
@Injectable()
export class FleetSettingsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<ProvisioningDB>) {}

  get(organizationId: string): Promise<FleetSettingsRow | undefined> {
    return this.database.db
      .selectFrom('fleet_settings')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .executeTakeFirst();
  }

  async put(db: Kysely<ProvisioningDB>, row: FleetSettingsRow): Promise<void> {
    await db
      .insertInto('fleet_settings')
      .values(row)
      .onConflict((oc) =>
        oc.column('organization_id').doUpdateSet({
          inactive_agent_cleanup_days: row.inactive_agent_cleanup_days,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  }

  /**
   * The one read across organisations: the cleanup job needs to know whose fleets to look at. It
   * returns only the organisation and its setting; each agent query after it is scoped again.
   */
  withInactiveAgentCleanup(): Promise<{ organization_id: string; inactive_agent_cleanup_days: number }[]> {
    return this.database.db
      .selectFrom('fleet_settings')
      .select(['organization_id', 'inactive_agent_cleanup_days'])
      .where('inactive_agent_cleanup_days', 'is not', null)
      .orderBy('organization_id')
      .execute() as Promise<{ organization_id: string; inactive_agent_cleanup_days: number }[]>;
  }
}
