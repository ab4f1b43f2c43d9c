import { Inject, Injectable } from '@nestjs/common';
import { Database, DATABASE } from '@app/persistence';
import { OrganizationRow, TokensDB } from '../database';
import { Executor } from '../transactions';

/** SQL about organisations. An organisation is its own scope, so lookups are by id or unique name. */
@Injectable()
export class OrganizationsRepository {
  private readonly db: Executor;

  constructor(@Inject(DATABASE) database: Database<TokensDB> | { db: Executor }) {
    this.db = database.db;
  }

  in(trx: Executor): OrganizationsRepository {
    return new OrganizationsRepository({ db: trx });
  }

  async insert(row: OrganizationRow): Promise<void> {
    await this.db.insertInto('organizations').values(row).execute();
  }

  getById(id: string): Promise<OrganizationRow | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(name: string): Promise<OrganizationRow | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
  }

  list(): Promise<OrganizationRow[]> {
    return this.db.selectFrom('organizations').selectAll().orderBy('created_at').orderBy('name').execute();
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
