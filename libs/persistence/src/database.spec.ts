import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { createTestDatabase, requireTool, testEngines } from '@app/testing';
import { openDatabase } from './database';
import { migrateDatabase, migrateToLatest } from './migrate';

interface DB {
  things: { id: string; n: number };
}

describe.each(testEngines())('openDatabase on %s', (engine) => {
  it('applies migrations once and stores rows', async () => {
    const fixture = await createTestDatabase(engine, 'things');
    const database = await openDatabase<DB>(fixture.options);
    try {
      const migrations = {
        '0001_things': {
          up: async (db: typeof database.db) => {
            await db.schema
              .createTable('things')
              .addColumn('id', 'text', (c) => c.primaryKey())
              .addColumn('n', 'bigint')
              .execute();
          },
        },
      };
      expect(await migrateToLatest(database.db, migrations)).toEqual(['0001_things']);
      expect(await migrateToLatest(database.db, migrations)).toEqual([]);
      await database.db.insertInto('things').values({ id: 'a', n: 1_700_000_000_000 }).execute();
      const row = await database.db.selectFrom('things').selectAll().executeTakeFirstOrThrow();
      expect(row.n).toBe(1_700_000_000_000);
      expect(database.engine).toBe(engine);
      await sql`select 1`.execute(database.db);
    } finally {
      await database.close();
      await fixture.cleanup();
    }
  });
});

describe('openDatabase on sqlite, beside a second connection writing the same file', () => {
  it('takes the write lock when a transaction begins, so one that reads first can still write', async () => {
    const fixture = await createTestDatabase('sqlite', 'things');
    const database = await openDatabase<DB>(fixture.options);
    const other = new SQLite(database.location);
    try {
      await sql`create table things (id text primary key, n integer)`.execute(database.db);
      other.pragma('busy_timeout = 0');
      await database.db.transaction().execute(async (trx) => {
        await trx.selectFrom('things').selectAll().execute();
        // Deferred, the other connection's write would commit here and the write below fail (SQLITE_BUSY_SNAPSHOT).
        expect(() => other.prepare("insert into things values ('other', 1)").run()).toThrow(/locked|busy/i);
        await trx.insertInto('things').values({ id: 'a', n: 1 }).execute();
      });
      other.prepare("insert into things values ('other', 1)").run();
      expect(other.prepare('select count(*) as n from things').get()).toEqual({ n: 2 });
    } finally {
      other.close();
      await database.close();
      await fixture.cleanup();
    }
  });
});

requireTool('postgresql').describe('two services in one PostgreSQL database', () => {
  it('each keeps its own migration history in its own schema', async () => {
    const fixture = await createTestDatabase('postgres', 'first');
    const first = await openDatabase<DB>({ ...fixture.options, name: 'first' });
    const second = await openDatabase<DB>({ ...fixture.options, name: 'second' });
    try {
      const table = (db: typeof first.db) =>
        db.schema
          .createTable('things')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('n', 'bigint')
          .execute();
      expect(await migrateDatabase(first, { '0001_things': { up: table } })).toEqual(['0001_things']);
      expect(await migrateDatabase(second, { '0001_things': { up: table } })).toEqual(['0001_things']);
    } finally {
      await first.close();
      await second.close();
      await fixture.cleanup();
    }
  });
});
