import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, sql, Transaction } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { IngestionDB, SampleRow } from '../database';

/** A metrics batch ready to store: identified by (agentId, seq), samples already flattened. */
export interface BatchToStore {
  agentId: string;
  seq: number;
  samples: SampleRow[];
}

export interface StoreResult {
  /** Keys `<agentId>:<seq>` stored by this call. */
  stored: Set<string>;
  /** Keys already present: a redelivery after a crash between commit and ack. */
  duplicates: Set<string>;
  samples: number;
}

export interface BucketRow {
  tags: string;
  unit: string | null;
  bucket: number;
  avg: number;
  min: number;
  max: number;
  last: number;
  count: number;
}

export interface SeriesRow {
  name: string;
  /** Canonical JSON of the tag set. */
  tags: string;
  unit: string | null;
  last: number;
}

/** 3 parameters per batch row; far below either engine's limit. */
const BATCH_KEY_CHUNK_ROWS = 5000;
/** 6 parameters per sample: 5,000 rows = 30,000, under SQLite's 32,766 bound-parameter limit. */
const SQLITE_SAMPLE_CHUNK_ROWS = 5000;
/** unnest takes 6 array parameters whatever the row count; chunks only bound one statement's memory. */
const POSTGRES_SAMPLE_CHUNK_ROWS = 50_000;

const batchKey = (agentId: string, seq: number) => `${agentId}:${seq}`;
/** Not a valid agent id (AGENT_ID_PATTERN has no spaces), so the probe row can never meet a real one. */
const PROBE_AGENT = 'write probe';
const ROLLBACK = Symbol('rollback the write probe');

@Injectable()
export class MetricsRepository {
  private readonly sqliteInsertText = new Map<number, string>();

  constructor(@Inject(DATABASE) private readonly database: Database<IngestionDB>) {}

  /**
   * Stores many batches in one transaction. The (agent_id, seq) key is inserted first with
   * "do nothing" on conflict; only batches whose key was new get their samples written.
   */
  async storeBatches(batches: BatchToStore[], now: number): Promise<StoreResult> {
    return this.database.db.transaction().execute(async (trx) => {
      const fresh = new Set<string>();
      for (let i = 0; i < batches.length; i += BATCH_KEY_CHUNK_ROWS) {
        const rows = await trx
          .insertInto('metric_batches')
          .values(
            batches
              .slice(i, i + BATCH_KEY_CHUNK_ROWS)
              .map((b) => ({ agent_id: b.agentId, seq: b.seq, stored_at: now })),
          )
          .onConflict((oc) => oc.columns(['agent_id', 'seq']).doNothing())
          .returning(['agent_id', 'seq'])
          .execute();
        for (const row of rows) fresh.add(batchKey(row.agent_id, Number(row.seq)));
      }
      const samples: SampleRow[] = [];
      const duplicates = new Set<string>();
      for (const b of batches) {
        const key = batchKey(b.agentId, b.seq);
        if (fresh.has(key)) for (const s of b.samples) samples.push(s);
        else duplicates.add(key);
      }
      if (this.database.engine === 'postgres') await this.insertSamplesPostgres(trx, samples);
      else await this.insertSamplesSqlite(trx, samples);
      return { stored: fresh, duplicates, samples: samples.length };
    });
  }

  /** Multi-row VALUES with a cached statement text per chunk size (no query builder on the hot path). */
  private async insertSamplesSqlite(trx: Transaction<IngestionDB>, samples: SampleRow[]): Promise<void> {
    for (let i = 0; i < samples.length; i += SQLITE_SAMPLE_CHUNK_ROWS) {
      const chunk = samples.slice(i, i + SQLITE_SAMPLE_CHUNK_ROWS);
      const params: unknown[] = new Array(chunk.length * 6);
      let p = 0;
      for (const s of chunk) {
        params[p++] = s.agent_id;
        params[p++] = s.name;
        params[p++] = s.tags;
        params[p++] = s.ts;
        params[p++] = s.value;
        params[p++] = s.unit;
      }
      await trx.executeQuery(CompiledQuery.raw(this.sqliteInsert(chunk.length), params));
    }
  }

  private sqliteInsert(rows: number): string {
    let text = this.sqliteInsertText.get(rows);
    if (!text) {
      text = `insert into samples (agent_id, name, tags, ts, value, unit) values ${new Array(rows).fill('(?,?,?,?,?,?)').join(',')}`;
      if (rows === SQLITE_SAMPLE_CHUNK_ROWS || this.sqliteInsertText.size < 64)
        this.sqliteInsertText.set(rows, text);
    }
    return text;
  }

  /** One INSERT … SELECT FROM unnest(arrays): six parameters for any number of rows. */
  private async insertSamplesPostgres(trx: Transaction<IngestionDB>, samples: SampleRow[]): Promise<void> {
    for (let i = 0; i < samples.length; i += POSTGRES_SAMPLE_CHUNK_ROWS) {
      const chunk = samples.slice(i, i + POSTGRES_SAMPLE_CHUNK_ROWS);
      await trx.executeQuery(
        CompiledQuery.raw(
          'insert into samples (agent_id, name, tags, ts, value, unit) ' +
            'select * from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::float8[], $6::text[])',
          [
            chunk.map((s) => s.agent_id),
            chunk.map((s) => s.name),
            chunk.map((s) => s.tags),
            chunk.map((s) => s.ts),
            chunk.map((s) => s.value),
            chunk.map((s) => s.unit),
          ],
        ),
      );
    }
  }

  /**
   * SQLite only: a page cache of `mib` MiB for this connection (SQLITE_CACHE_MIB). Every sample also
   * lands in the (agent_id, name, ts) index at a spot spread over all series; with SQLite's 2 MiB
   * default most of those pages miss the cache (measured: ~25 % more rows/s at 64 MiB). The cache
   * fills as the tables grow, so the process's RSS rises by up to this much in its first minutes.
   */
  async tuneForIngestion(mib: number): Promise<void> {
    if (this.database.engine === 'sqlite')
      await sql.raw(`pragma cache_size = -${Math.trunc(mib * 1024)}`).execute(this.database.db);
  }

  /**
   * Whether the database takes a write right now: one batch key and one sample are written to the
   * real tables and rolled back. Tells "storage is down or full" (the probe fails too; `select 1`
   * would still answer on a full disk) from "this batch cannot be stored" (the probe succeeds).
   */
  async acceptsWrites(now: number): Promise<boolean> {
    try {
      await this.database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('metric_batches')
          .values({ agent_id: PROBE_AGENT, seq: 0, stored_at: now })
          .execute();
        await trx
          .insertInto('samples')
          .values({ agent_id: PROBE_AGENT, name: 'probe', tags: '{}', ts: now, value: 0, unit: null })
          .execute();
        throw ROLLBACK;
      });
      return true;
    } catch (error) {
      return error === ROLLBACK;
    }
  }

  /**
   * Buckets of one agent's metric: avg/min/max/count per bucket, and the last value by a
   * window function (both engines support it), grouped by tag set.
   */
  async bucketed(
    agentId: string,
    name: string,
    from: number,
    to: number,
    stepMs: number,
  ): Promise<BucketRow[]> {
    // Inlined as an integer literal: SQLite binds JS numbers as REAL, which would turn ts / step into float division.
    const step = sql.lit(Math.max(1, Math.trunc(stepMs)));
    const result = await sql<BucketRow>`
      select tags, max(unit) as unit, bucket, avg(value) as avg, min(value) as min, max(value) as max,
             max(case when rn = 1 then value end) as last, count(*) as count
      from (
        select tags, unit, value, (ts / ${step}) * ${step} as bucket,
               row_number() over (partition by tags, ts / ${step} order by ts desc) as rn
        from samples
        where agent_id = ${agentId} and name = ${name} and ts >= ${from} and ts < ${to}
      ) s
      group by tags, bucket
      order by tags, bucket`.execute(this.database.db);
    return result.rows.map((r) => ({
      ...r,
      bucket: Number(r.bucket),
      avg: Number(r.avg),
      min: Number(r.min),
      max: Number(r.max),
      last: Number(r.last),
      count: Number(r.count),
    }));
  }

  /**
   * One agent's series since `since`: one row per (name, tag set) with its unit and newest sample, at
   * most `limit` rows, by name. One grouped query over the (agent_id, name, ts) index range of the agent.
   */
  async seriesOf(agentId: string, since: number, limit: number): Promise<SeriesRow[]> {
    const rows = await this.database.db
      .selectFrom('samples')
      .select(['name', 'tags', (eb) => eb.fn.max('unit').as('unit'), (eb) => eb.fn.max('ts').as('last')])
      .where('agent_id', '=', agentId)
      .where('ts', '>=', since)
      .groupBy(['name', 'tags'])
      .orderBy('name')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ name: r.name, tags: r.tags, unit: r.unit, last: Number(r.last) }));
  }

  /** ts of the newest stored sample of one agent's metric (one index lookup), or null. */
  async newestSampleAt(agentId: string, name: string): Promise<number | null> {
    const row = await this.database.db
      .selectFrom('samples')
      .select((eb) => eb.fn.max('ts').as('newest'))
      .where('agent_id', '=', agentId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.newest === null || row?.newest === undefined ? null : Number(row.newest);
  }

  /**
   * Deletes up to `limit` samples older than `cutoff`. Rows are scanned in physical order
   * (rowid / ctid), which is roughly insertion order, so old rows are found first without an
   * index on ts that every insert would have to maintain.
   */
  async deleteSamplesBefore(cutoff: number, limit: number): Promise<number> {
    const address = this.database.engine === 'postgres' ? sql.raw('ctid') : sql.raw('rowid');
    const result = await sql`
      delete from samples where ${address} in (
        select ${address} from samples where ts < ${cutoff} limit ${limit}
      )`.execute(this.database.db);
    return Number(result.numAffectedRows ?? 0);
  }

  async deleteBatchKeysBefore(cutoff: number): Promise<number> {
    const result = await this.database.db
      .deleteFrom('metric_batches')
      .where('stored_at', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
