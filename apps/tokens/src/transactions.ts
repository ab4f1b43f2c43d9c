import { Inject, Injectable } from '@nestjs/common';
import { Kysely, Transaction } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { TokensDB } from './database';

/** Runs work in one database transaction; repositories join it with `.in(trx)`. */
@Injectable()
export class Transactions {
  constructor(@Inject(DATABASE) private readonly database: Database<TokensDB>) {}

  run<T>(work: (trx: Transaction<TokensDB>) => Promise<T>): Promise<T> {
    return this.database.db.transaction().execute(work);
  }
}

/** Either the pool or a transaction: what a repository runs its SQL on. */
export type Executor = Kysely<TokensDB>;

/** True when the error is a unique-constraint violation on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
