import { ConsoleLogger, Logger, LoggerService } from '@nestjs/common';
import { sql } from 'kysely';
import { Pool } from 'pg';
import { DependencyUnavailableError, ErrorCodes } from '@app/contracts';
import { createTestDatabase, TestDatabase, testEngines } from '@app/testing';
import { Database, openDatabase } from './database';

interface DB {
  things: { id: string };
}

/** Every line Nest's loggers write while a test runs. */
function captureLogs(): { lines: { level: string; message: string }[]; restore: () => void } {
  const lines: { level: string; message: string }[] = [];
  const keep = (level: string) => (first: unknown, second?: unknown) =>
    lines.push({ level, message: String(typeof first === 'string' ? first : second) });
  const logger: LoggerService = { log: keep('log'), error: keep('error'), warn: keep('warn') };
  Logger.overrideLogger(logger);
  return { lines, restore: () => Logger.overrideLogger(new ConsoleLogger()) };
}

/**
 * Takes the database away from the service the way an outage does, and gives it back. PostgreSQL:
 * the server refuses new connections and drops the open ones. SQLite: another connection holds the
 * write lock, and the service gives up waiting for it at once.
 */
async function outage(fixture: TestDatabase, database: Database<DB>): Promise<() => Promise<void>> {
  if (fixture.engine === 'postgres') {
    const admin = new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 1 });
    const name = new URL(fixture.options.databaseUrl!).pathname.slice(1);
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    return async () => {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    };
  }
  await sql`pragma busy_timeout = 0`.execute(database.db);
  const holder = await openDatabase<DB>(fixture.options);
  await sql`begin exclusive`.execute(holder.db);
  return async () => {
    await sql`commit`.execute(holder.db);
    await holder.close();
  };
}

describe.each(testEngines())('database health on %s', (engine) => {
  let fixture: TestDatabase;
  let database: Database<DB>;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(async () => {
    fixture = await createTestDatabase(engine, 'things');
    database = await openDatabase<DB>(fixture.options);
    await database.db.schema
      .createTable('things')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .execute();
    logs = captureLogs();
  });

  afterEach(async () => {
    logs.restore();
    await database.close();
    await fixture.cleanup();
  });

  const insert = (id: string) => database.db.insertInto('things').values({ id }).execute();

  it('an unavailable database fails every query as "database unavailable", logged once, and once when it is back', async () => {
    const restore = await outage(fixture, database);
    const failures = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        insert(`t${i}`).then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    for (const error of failures) {
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(error).toMatchObject({
        code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
        message: 'database unavailable',
      });
    }
    expect(database.health.available).toBe(false);
    await restore();
    await insert('after');
    expect(database.health.available).toBe(true);
    expect(logs.lines).toEqual([
      { level: 'error', message: 'database unavailable' },
      { level: 'log', message: 'database available again' },
    ]);
  });

  it('a query the database refuses while it serves keeps its own error and logs nothing', async () => {
    await insert('a');
    const error = await insert('a').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    expect(error).not.toBeInstanceOf(DependencyUnavailableError);
    expect(database.health.available).toBe(true);
    expect(logs.lines).toEqual([]);
  });
});
