import { CompiledQuery, DatabaseConnection, Dialect } from 'kysely';
import { DelegatingDriver, withDriver } from './delegating-driver';

/**
 * SQLite transactions that take the write lock at BEGIN (`begin immediate`). With a second connection writing
 * the same file (ingestion's metrics writer thread), a deferred transaction that read first could not write
 * after the other connection's commit (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out); one that
 * takes the lock first waits its turn instead.
 */
export function withImmediateTransactions(dialect: Dialect): Dialect {
  return withDriver(dialect, (driver) => new ImmediateTransactionsDriver(driver));
}

class ImmediateTransactionsDriver extends DelegatingDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
