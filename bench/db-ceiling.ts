import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Pool } from 'pg';
import { Engine, migrateToLatest, openDatabase } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '@app/testing';
import { migrations as ingestionMigrations } from '../apps/ingestion/src/migrations';
import { benchConfig } from './lib/bench-config';
import { BenchContext, Scenario } from './lib/harness';
import { metricsBatch } from './lib/payloads';

/** Rows per run: enough for several seconds of inserting, so start-up noise does not count. */
const SQLITE_ROWS = 500_000;
const POSTGRES_ROWS = 300_000;
/** SQLite binds at most 32,766 parameters per statement; 6 columns × 500 rows = 3,000 keeps statements cache-friendly. */
const SQLITE_ROWS_PER_STATEMENT = 500;
/** One transaction commits this many rows (one WAL sync per commit). */
const SQLITE_ROWS_PER_TRANSACTION = 10_000;
/** unnest() takes one array per column, so a statement's size is not limited by the 65,535 bind parameters. */
const POSTGRES_ROWS_PER_STATEMENT = 5_000;
/** The (agent_id, name, ts) index ingestion's migration creates for its one read. */
const SAMPLES_INDEX = 'samples_agent_name_ts';
/** Agents whose batches the generated rows come from. */
const AGENTS = 1_000;

interface SampleRows {
  agentId: string[];
  name: string[];
  tags: string[];
  ts: number[];
  value: number[];
  unit: (string | null)[];
}

/** Rows shaped like ingestion's: the samples of realistic Server-agent batches, columnar. */
function generateRows(count: number): SampleRows {
  const rows: SampleRows = { agentId: [], name: [], tags: [], ts: [], value: [], unit: [] };
  const base = Date.now() - 3_600_000;
  for (let seq = 0; rows.agentId.length < count; seq++) {
    for (let a = 0; a < AGENTS && rows.agentId.length < count; a++) {
      const agentId = `agent-${String(a).padStart(6, '0')}`;
      const batch = metricsBatch(agentId, seq, base + seq * 10_000);
      for (const s of batch.samples) {
        if (rows.agentId.length >= count) break;
        rows.agentId.push(agentId);
        rows.name.push(s.name);
        rows.tags.push(JSON.stringify(s.tags ?? {}));
        rows.ts.push(batch.collectedAt);
        rows.value.push(s.value);
        rows.unit.push(s.unit ?? null);
      }
    }
  }
  return rows;
}

/** A fresh database with ingestion's pre-chunk schema (tables and indexes, via its migrations 0001–0004). */
async function migratedDatabase(engine: Engine, withIndex: boolean): Promise<TestDatabase> {
  const test = await createTestDatabase(engine, 'ingestion');
  const database = await openDatabase(test.options);
  try {
    // Up to 0004: the row-per-sample `samples` table this ceiling is about (0005 replaces it by chunks).
    await migrateToLatest(
      database.db,
      Object.fromEntries(Object.entries(ingestionMigrations).filter(([name]) => name < '0005')),
    );
    // Without the read index: shows how much of the ceiling the index costs.
    if (!withIndex) await database.db.schema.dropIndex(SAMPLES_INDEX).execute();
  } finally {
    await database.close();
  }
  return test;
}

async function sqliteCeiling(ctx: BenchContext, rows: SampleRows, withIndex: boolean): Promise<void> {
  const test = await migratedDatabase('sqlite', withIndex);
  const sqlite = new SQLite(join(test.options.dataDir, 'ingestion.db'));
  try {
    // The pragmas libs/persistence sets for every service.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    const values = Array.from({ length: SQLITE_ROWS_PER_STATEMENT }, () => '(?, ?, ?, ?, ?, ?)').join(', ');
    const insert = sqlite.prepare(
      `INSERT INTO samples (agent_id, name, tags, ts, value, unit) VALUES ${values}`,
    );
    const params: (string | number | null)[] = new Array(SQLITE_ROWS_PER_STATEMENT * 6);
    const writeChunk = sqlite.transaction((from: number, to: number) => {
      for (let start = from; start < to; start += SQLITE_ROWS_PER_STATEMENT) {
        for (let i = 0; i < SQLITE_ROWS_PER_STATEMENT; i++) {
          const r = start + i;
          params[i * 6] = rows.agentId[r];
          params[i * 6 + 1] = rows.name[r];
          params[i * 6 + 2] = rows.tags[r];
          params[i * 6 + 3] = rows.ts[r];
          params[i * 6 + 4] = rows.value[r];
          params[i * 6 + 5] = rows.unit[r];
        }
        insert.run(params);
      }
    });
    const start = performance.now();
    for (let from = 0; from < SQLITE_ROWS; from += SQLITE_ROWS_PER_TRANSACTION) {
      writeChunk(from, Math.min(SQLITE_ROWS, from + SQLITE_ROWS_PER_TRANSACTION));
    }
    const seconds = (performance.now() - start) / 1000;
    const stored = (sqlite.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
    if (stored !== SQLITE_ROWS) throw new Error(`SQLite stored ${stored} of ${SQLITE_ROWS} rows`);
    if (withIndex) {
      ctx.record('SQLite bulk insert, samples table', 'rows/s', SQLITE_ROWS / seconds, {
        baseline: 'SQLite bulk insert, table without its index',
        note: `better-sqlite3, ${SQLITE_ROWS_PER_STATEMENT}-row prepared INSERT, ${SQLITE_ROWS_PER_TRANSACTION} rows per transaction, WAL + synchronous=NORMAL, with ingestion's index`,
      });
    } else {
      ctx.record('SQLite bulk insert, table without its index', 'rows/s', SQLITE_ROWS / seconds);
    }
  } finally {
    sqlite.close();
    await test.cleanup();
  }
}

async function postgresCeiling(ctx: BenchContext, rows: SampleRows, withIndex: boolean): Promise<void> {
  const test = await migratedDatabase('postgres', withIndex);
  const pool = new Pool({
    connectionString: test.options.databaseUrl,
    max: 1,
    options: '-c search_path="ingestion"',
  });
  try {
    const statement =
      'INSERT INTO samples (agent_id, name, tags, ts, value, unit) ' +
      'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::text[])';
    const start = performance.now();
    for (let from = 0; from < POSTGRES_ROWS; from += POSTGRES_ROWS_PER_STATEMENT) {
      const to = Math.min(POSTGRES_ROWS, from + POSTGRES_ROWS_PER_STATEMENT);
      await pool.query(statement, [
        rows.agentId.slice(from, to),
        rows.name.slice(from, to),
        rows.tags.slice(from, to),
        rows.ts.slice(from, to),
        rows.value.slice(from, to),
        rows.unit.slice(from, to),
      ]);
    }
    const seconds = (performance.now() - start) / 1000;
    const { rows: count } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM samples');
    if (Number(count[0].n) !== POSTGRES_ROWS)
      throw new Error(`PostgreSQL stored ${count[0].n} of ${POSTGRES_ROWS}`);
    if (withIndex) {
      ctx.record('PostgreSQL bulk insert, samples table', 'rows/s', POSTGRES_ROWS / seconds, {
        baseline: 'PostgreSQL bulk insert, table without its index',
        note: `one connection, INSERT … SELECT unnest() of ${POSTGRES_ROWS_PER_STATEMENT} rows per statement (autocommit), with ingestion's index; server on the same 2 cores`,
      });
    } else {
      ctx.record('PostgreSQL bulk insert, table without its index', 'rows/s', POSTGRES_ROWS / seconds);
    }
  } finally {
    await pool.end();
    await test.cleanup();
  }
}

export const dbCeiling: Scenario = {
  name: 'db-ceiling',
  title: "Database bulk-insert ceiling (ingestion's samples table, no platform code)",
  async run(ctx) {
    const postgres = Boolean(benchConfig().TEST_DATABASE_URL);
    const rows = generateRows(Math.max(SQLITE_ROWS, POSTGRES_ROWS));
    ctx.note(
      `${rows.agentId.length.toLocaleString('en-US')} generated rows from ${AGENTS} agents' batches; ` +
        (postgres ? 'PostgreSQL from TEST_DATABASE_URL' : 'PostgreSQL skipped: TEST_DATABASE_URL not set'),
    );
    await ctx.repeat(async () => {
      for (const withIndex of [true, false]) {
        await sqliteCeiling(ctx, rows, withIndex);
        if (postgres) await postgresCeiling(ctx, rows, withIndex);
      }
    });
  },
};
