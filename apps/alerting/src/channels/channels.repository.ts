import { Inject, Injectable } from '@nestjs/common';
import { Database, DATABASE } from '@app/persistence';
import { AlertingDB, ChannelRow } from '../database';
import { Executor } from '../transactions';

/** The only place that speaks SQL about notification channels; every call is scoped by organisation. */
@Injectable()
export class ChannelsRepository {
  private readonly db: Executor;

  constructor(@Inject(DATABASE) database: Database<AlertingDB> | { db: Executor }) {
    this.db = database.db;
  }

  in(trx: Executor): ChannelsRepository {
    return new ChannelsRepository({ db: trx });
  }

  async insert(row: ChannelRow): Promise<void> {
    await this.db.insertInto('channels').values(row).execute();
  }

  get(organizationId: string, id: string): Promise<ChannelRow | undefined> {
    return this.db
      .selectFrom('channels')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  list(organizationId: string): Promise<ChannelRow[]> {
    return this.db
      .selectFrom('channels')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async existingIds(organizationId: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('channels')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('id', 'in', ids)
      .execute();
    return rows.map((r) => r.id);
  }

  /** A new name or URL; false when the organisation has no such channel. */
  async update(
    organizationId: string,
    id: string,
    changes: Partial<Pick<ChannelRow, 'name' | 'url'>>,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('channels')
      .set(changes)
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('channels')
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
