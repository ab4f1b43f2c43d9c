import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { Pool, types } from 'pg';
import { DatabaseHealth, withHealth } from './database-health';
import { withImmediateTransactions } from './sqlite-immediate';
import { withStatementCache } from './sqlite-statements';

// int8 columns hold millisecond timestamps and counters well inside 2^53: read them as numbers.
types.setTypeParser(20, (value) => Number(value));

export type Engine = 'sqlite' | 'postgres';

export interface DatabaseOptions {
  /** postgres://… → PostgreSQL; unset → SQLite file `<dataDir>/<name>.db`. */
  databaseUrl?: string;
  dataDir: string;
  /** The owning service: SQLite file name, PostgreSQL schema (each service owns its data). */
  name: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

export interface Database<DB> {
  db: Kysely<DB>;
  engine: Engine;
  /** Where the data lives, for logs: a file path or `postgres schema <name>`. */
  location: string;
  /** PostgreSQL schema holding the service's tables; undefined on SQLite. */
  schema?: string;
  /** Whether the database serves, from the queries' own outcomes; its failures become "database unavailable". */
  health: DatabaseHealth;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  if (!SCHEMA_NAME.test(options.name)) throw new Error(`invalid database name ${options.name}`);
  if (options.databaseUrl) return openPostgres<DB>(options.databaseUrl, options.name, options.poolSize ?? 10);
  return openSqlite<DB>(options.dataDir, options.name);
}

function openSqlite<DB>(dataDir: string, name: string): Database<DB> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, `${name}.db`);
  const sqlite = new SQLite(file);
  // WAL lets readers run beside the single writer; NORMAL is durable across process crashes in WAL mode.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const health = new DatabaseHealth(file, async () => void sqlite.prepare('select 1').get());
  const db = new Kysely<DB>({
    dialect: withHealth(
      withImmediateTransactions(new SqliteDialect({ database: withStatementCache(sqlite) })),
      health,
    ),
  });
  return { db, engine: 'sqlite', location: file, health, close: () => db.destroy() };
}

async function openPostgres<DB>(url: string, schema: string, max: number): Promise<Database<DB>> {
  const bootstrap = new Pool({ connectionString: url, max: 1 });
  try {
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two instances racing on CREATE SCHEMA can hit a unique violation; the schema exists either way.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await bootstrap.end();
  }
  const pool = new Pool({ connectionString: url, max, options: `-c search_path="${schema}"` });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  // A checked-out client (e.g. inside a transaction, between statements) has no pool listener:
  // without this one, a connection killed by the server is an unhandled 'error' event that ends
  // the process. The failing query still rejects and the pool discards the client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const location = `postgres schema ${schema}`;
  const health = new DatabaseHealth(location, async () => void (await pool.query('select 1')));
  const db = new Kysely<DB>({ dialect: withHealth(new PostgresDialect({ pool }), health) });
  await sql`select 1`.execute(db);
  return { db, engine: 'postgres', location, schema, health, close: () => db.destroy() };
}
