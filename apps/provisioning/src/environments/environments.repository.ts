import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { ProvisioningDB, EnvironmentRow } from '../database';

/** SQL for environments. Every query is scoped by organisation. */
@Injectable()
export class EnvironmentsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<ProvisioningDB>) {}

  find(organizationId: string, name: string): Promise<EnvironmentRow | undefined> {
    return this.database.db
      .selectFrom('environments')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  /** Inserts unless the (organisation, name) pair exists; returns true when this call created it. */
  async insertIfAbsent(row: EnvironmentRow, db: Kysely<ProvisioningDB> = this.database.db): Promise<boolean> {
    const result = await db
      .insertInto('environments')
      .values(row)
      .onConflict((oc) => oc.columns(['organization_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  list(organizationId: string): Promise<EnvironmentRow[]> {
    return this.database.db
      .selectFrom('environments')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('name')
      .execute();
  }
}
