import { Inject, Injectable } from '@nestjs/common';
import { Updateable } from 'kysely';
import { AlertRuleKind } from '@app/contracts';
import { Database, DATABASE } from '@app/persistence';
import { AlertingDB, AlertRuleRow } from '../database';
import { Executor } from '../transactions';

/** The only place that speaks SQL about alert rules; every call is scoped by organisation. */
@Injectable()
export class RulesRepository {
  private readonly db: Executor;

  constructor(@Inject(DATABASE) database: Database<AlertingDB> | { db: Executor }) {
    this.db = database.db;
  }

  in(trx: Executor): RulesRepository {
    return new RulesRepository({ db: trx });
  }

  async insert(row: AlertRuleRow): Promise<void> {
    await this.db.insertInto('alert_rules').values(row).execute();
  }

  get(organizationId: string, id: string): Promise<AlertRuleRow | undefined> {
    return this.db
      .selectFrom('alert_rules')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  list(organizationId: string): Promise<AlertRuleRow[]> {
    return this.db
      .selectFrom('alert_rules')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /** The enabled rules an event of the organisation can trigger. */
  listEnabled(organizationId: string, kinds: AlertRuleKind[]): Promise<AlertRuleRow[]> {
    return this.db
      .selectFrom('alert_rules')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('kind', 'in', kinds)
      .where('enabled', '=', 1)
      .execute();
  }

  async update(organizationId: string, id: string, changes: Updateable<AlertRuleRow>): Promise<void> {
    await this.db
      .updateTable('alert_rules')
      .set(changes)
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .execute();
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('alert_rules')
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
