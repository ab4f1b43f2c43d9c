import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql, Transaction } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { AuditRow, ProvisioningDB } from '../database';

export interface AuditFilter {
  action?: string;
  actionPrefix?: string;
  targetId?: string;
  limit: number;
  offset: number;
}

/** SQL for the audit log. Every query is scoped by organisation. */
@Injectable()
export class AuditRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<ProvisioningDB>) {}

  async insert(row: AuditRow, db: Kysely<ProvisioningDB> = this.database.db): Promise<void> {
    await db.insertInto('audit_log').values(row).execute();
  }

  /** Inserts a row whose id is derived from its source (an event id): a second delivery adds nothing. */
  async insertOnce(row: AuditRow): Promise<void> {
    await this.database.db
      .insertInto('audit_log')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** One transaction for a change, its audit entry and its event (see AuditService.record). */
  transaction<T>(work: (trx: Transaction<ProvisioningDB>) => Promise<T>): Promise<T> {
    return this.database.db.transaction().execute(work);
  }

  async list(organizationId: string, filter: AuditFilter): Promise<{ rows: AuditRow[]; total: number }> {
    let query = this.database.db.selectFrom('audit_log').where('organization_id', '=', organizationId);
    if (filter.action) query = query.where('action', '=', filter.action);
    // substr rather than LIKE: `_` in an action name would be a LIKE wildcard; both engines have substr.
    if (filter.actionPrefix)
      query = query.where(
        sql<string>`substr(action, 1, ${filter.actionPrefix.length})`,
        '=',
        filter.actionPrefix,
      );
    if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  }
}
