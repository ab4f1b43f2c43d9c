import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { CompiledQuery, sql, Transaction } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { MetricSample } from '@app/contracts';
import { IngestionDB } from '../database';
import { BatchColumns, chunksOf, EncodedChunk, toColumns } from './batch-columns';
import { encodeChunk, HOUR_MS } from './chunk-codec';
import { canonicalTags, SeriesIds } from './series-ids';
import { MetricsSqliteWriter } from './metrics-sqlite-writer';

/**
 * A metrics batch ready to store, identified by (agentId, seq): the checked message body as it came
 * (a sample without `ts` was taken at `collectedAt`), so no object is made per sample to store it.
 */
export interface BatchToStore {
  agentId: string;
  seq: number;
  collectedAt: number;
  samples: readonly MetricSample[];
}

interface NewSeries {
  agent_id: string;
  name: string;
  tags: string;
  unit: string | null;
}

export interface StoreResult {
  /** Keys `<agentId>:<seq>` stored by this call. */
  stored: Set<string>;
  /** Keys already present: a redelivery after a crash between commit and ack. */
  duplicates: Set<string>;
  samples: number;
}

/** 4 parameters per series row, 5 per chunk row: under SQLite's 32,766 bound-parameter limit. */
const SQLITE_ROWS_PER_STATEMENT = 5000;
/**
 * WAL pages between automatic checkpoints (SQLite's default is 1,000). Every fetch dirties much the same
 * index pages (batch keys, chunks), so a checkpoint copies each page once however many commits wrote it
 * since the last: rarer checkpoints copy fewer pages per sample. The WAL grows to ~40 MiB before one.
 */
const WAL_CHECKPOINT_PAGES = 10_000;
/** Agents per series look-up (`agent_id in (…)`). */
const SERIES_LOOKUP_AGENTS = 1000;

const batchKey = (agentId: string, seq: number) => `${agentId}:${seq}`;
/** Not a valid agent id (AGENT_ID_PATTERN has no spaces), so the probe row can never meet a real one. */
const PROBE_AGENT = 'write probe';
const ROLLBACK = Symbol('rollback the write probe');

/** The only place that speaks SQL for stored metrics (with its SQLite writer thread): batch keys, series, chunks and rollups. */
@Injectable()
export class MetricsRepository implements OnModuleDestroy {
  private readonly seriesIds = new SeriesIds();
  private cacheMib?: number;
  /** SQLite: keys and chunks are written by a thread of their own (metrics-sqlite-writer.worker.ts). */
  private readonly sqliteWriter: MetricsSqliteWriter;

  constructor(@Inject(DATABASE) private readonly database: Database<IngestionDB>) {
    this.sqliteWriter = new MetricsSqliteWriter(() => ({
      file: database.location,
      cacheMib: this.cacheMib,
      walCheckpointPages: WAL_CHECKPOINT_PAGES,
    }));
  }

  async onModuleDestroy(): Promise<void> {
    await this.sqliteWriter.close();
  }

  /**
   * Stores many batches in one transaction. The (agent_id, seq) key is inserted first with "do
   * nothing" on conflict; only batches whose key was new are encoded, one chunk per agent and hour.
   */
  async storeBatches(batches: BatchToStore[], now: number): Promise<StoreResult> {
    // Series ids outside the transaction: registering a series is idempotent and needs no rollback.
    const columns = toColumns(batches, await this.resolveSeries(batches));
    if (this.database.engine === 'sqlite') return this.storeOnWriterThread(columns, now);
    return this.database.db.transaction().execute(async (trx) => {
      const fresh = await this.insertBatchKeys(trx, columns, now);
      const key = (bi: number) => batchKey(columns.agentIds[bi], columns.seqs[bi]);
      const { chunks, samples } = chunksOf(columns, (bi) => fresh.has(key(bi)));
      await this.insertChunks(trx, chunks);
      const duplicates = new Set<string>();
      for (let bi = 0; bi < columns.agentIds.length; bi++) if (!fresh.has(key(bi))) duplicates.add(key(bi));
      return { stored: fresh, duplicates, samples };
    });
  }

  /** SQLite: the same transaction, on the writer thread (metrics-sqlite-writer.worker.ts). */
  private async storeOnWriterThread(columns: BatchColumns, now: number): Promise<StoreResult> {
    let reply;
    try {
      reply = await this.sqliteWriter.write({ ...columns, now });
    } catch (error) {
      throw await this.database.health.explain(error);
    }
    this.database.health.succeeded();
    const stored = new Set<string>();
    const duplicates = new Set<string>();
    for (let bi = 0; bi < columns.agentIds.length; bi++)
      (reply.fresh[bi] ? stored : duplicates).add(batchKey(columns.agentIds[bi], columns.seqs[bi]));
    return { stored, duplicates, samples: reply.samples };
  }

  /**
   * The series id of every sample of every batch (`ids[batch][sample]`); new series are registered.
   * A batch with its agent's last shape is resolved by comparison; only the others build tag text.
   */
  private async resolveSeries(batches: BatchToStore[]): Promise<(readonly number[])[]> {
    const ids: (readonly number[])[] = new Array(batches.length);
    // Canonical tags of the batches resolved the long way, to remember as their agents' shapes.
    const tagTexts: (string[] | undefined)[] = new Array(batches.length);
    const missing: NewSeries[] = [];
    for (let bi = 0; bi < batches.length; bi++) {
      const b = batches[bi];
      const known = this.seriesIds.sameShape(b.agentId, b.samples);
      if (known) {
        ids[bi] = known;
        continue;
      }
      const tags = (tagTexts[bi] = b.samples.map((s) => canonicalTags(s.tags)));
      const row = (ids[bi] = new Array<number>(b.samples.length));
      for (let si = 0; si < b.samples.length; si++) {
        const s = b.samples[si];
        const id = this.seriesIds.get(b.agentId, s.name, tags[si]);
        if (id === undefined)
          missing.push({ agent_id: b.agentId, name: s.name, tags: tags[si], unit: s.unit ?? null });
        else row[si] = id;
      }
    }
    if (missing.length) await this.registerSeries(missing);
    for (let bi = 0; bi < batches.length; bi++) {
      const tags = tagTexts[bi];
      if (!tags) continue;
      const b = batches[bi];
      const row = ids[bi] as number[];
      for (let si = 0; si < b.samples.length; si++) {
        if (row[si] !== undefined) continue;
        const id = this.seriesIds.get(b.agentId, b.samples[si].name, tags[si]);
        if (id === undefined) throw new Error('a series was neither inserted nor found');
        row[si] = id;
      }
      this.seriesIds.remember(b.agentId, b.samples, tags, row);
    }
    return ids;
  }

  /** Inserts the series not known yet (the first unit seen is kept) and caches every series of their agents. */
  private async registerSeries(missing: NewSeries[]): Promise<void> {
    const unique = new Map<string, NewSeries>();
    for (const m of missing) {
      const key = `${m.agent_id}\u0000${m.name}\u0000${m.tags}`;
      const known = unique.get(key);
      if (!known) unique.set(key, { ...m });
      else known.unit ??= m.unit;
    }
    const rows = [...unique.values()];
    for (let i = 0; i < rows.length; i += SQLITE_ROWS_PER_STATEMENT / 5)
      await this.database.db
        .insertInto('metric_series')
        .values(rows.slice(i, i + SQLITE_ROWS_PER_STATEMENT / 5))
        .onConflict((oc) => oc.columns(['agent_id', 'name', 'tags']).doNothing())
        .execute();
    const agents = [...new Set(rows.map((r) => r.agent_id))];
    for (let i = 0; i < agents.length; i += SERIES_LOOKUP_AGENTS) {
      const found = await this.database.db
        .selectFrom('metric_series')
        .select(['series_id', 'agent_id', 'name', 'tags'])
        .where('agent_id', 'in', agents.slice(i, i + SERIES_LOOKUP_AGENTS))
        .execute();
      for (const f of found) this.seriesIds.set(f.agent_id, f.name, f.tags, Number(f.series_id));
    }
  }

  /** PostgreSQL: inserts each batch's (agent_id, seq) key unless present; returns the keys that were new. */
  private async insertBatchKeys(
    trx: Transaction<IngestionDB>,
    columns: BatchColumns,
    now: number,
  ): Promise<Set<string>> {
    const { rows } = await trx.executeQuery<{ agent_id: string; seq: string }>(
      CompiledQuery.raw(
        'insert into metric_batches (agent_id, seq, stored_at) ' +
          'select * from unnest($1::text[], $2::int8[], $3::int8[]) ' +
          'on conflict (agent_id, seq) do nothing returning agent_id, seq',
        [columns.agentIds, columns.seqs, columns.agentIds.map(() => now)],
      ),
    );
    return new Set(rows.map((row) => batchKey(row.agent_id, Number(row.seq))));
  }

  /** PostgreSQL: one INSERT … SELECT FROM unnest(arrays), five parameters for any number of rows. */
  private async insertChunks(trx: Transaction<IngestionDB>, chunks: EncodedChunk[]): Promise<void> {
    if (!chunks.length) return;
    await trx.executeQuery(
      CompiledQuery.raw(
        'insert into metric_chunks (agent_id, hour_start, sample_count, compacted, data) ' +
          'select * from unnest($1::text[], $2::int8[], $3::int4[], $4::int4[], $5::bytea[])',
        [
          chunks.map((c) => c.agentId),
          chunks.map((c) => c.hour),
          chunks.map((c) => c.sampleCount),
          chunks.map(() => 0),
          chunks.map((c) => c.data),
        ],
      ),
    );
  }

  /**
   * SQLite only: a page cache of `mib` MiB for this connection (SQLITE_CACHE_MIB): the chunk and
   * batch-key indexes stay in memory as the tables grow; and a checkpoint every WAL_CHECKPOINT_PAGES.
   */
  async tuneForIngestion(mib: number): Promise<void> {
    if (this.database.engine === 'sqlite') {
      this.cacheMib = mib;
      await sql.raw(`pragma cache_size = -${Math.trunc(mib * 1024)}`).execute(this.database.db);
      await sql.raw(`pragma wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`).execute(this.database.db);
    }
  }

  /**
   * Whether the database takes a write right now: one batch key and one chunk are written to the
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
          .insertInto('metric_chunks')
          .values({
            agent_id: PROBE_AGENT,
            hour_start: now,
            sample_count: 0,
            compacted: 0,
            data: encodeChunk([], now),
          })
          .execute();
        throw ROLLBACK;
      });
      return true;
    } catch (error) {
      return error === ROLLBACK;
    }
  }

  /**
   * Deletes up to `limit` chunks of hours that ended at or before `cutoff` (whole chunks, found by
   * the hour index); returns how many chunks and samples went.
   */
  async deleteChunksBefore(cutoff: number, limit: number): Promise<{ chunks: number; samples: number }> {
    const lastHour = Math.floor(cutoff / HOUR_MS) * HOUR_MS - HOUR_MS;
    return this.database.db.transaction().execute(async (trx) => {
      const doomed = await trx
        .selectFrom('metric_chunks')
        .select(['chunk_id', 'sample_count'])
        .where('hour_start', '<=', lastHour)
        .limit(limit)
        .execute();
      if (!doomed.length) return { chunks: 0, samples: 0 };
      const ids = doomed.map((d) => Number(d.chunk_id));
      for (let i = 0; i < ids.length; i += SQLITE_ROWS_PER_STATEMENT)
        await trx
          .deleteFrom('metric_chunks')
          .where('chunk_id', 'in', ids.slice(i, i + SQLITE_ROWS_PER_STATEMENT))
          .execute();
      return { chunks: ids.length, samples: doomed.reduce((n, d) => n + Number(d.sample_count), 0) };
    });
  }

  /** Deletes rollup rows whose whole window ended at or before `cutoff`; returns how many. */
  async deleteRollupsBefore(cutoff: number, stepMs: number, windowMs: number): Promise<number> {
    const result = await this.database.db
      .deleteFrom('metric_rollups')
      .where('step_ms', '=', stepMs)
      .where('window_start', '<=', cutoff - windowMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteBatchKeysBefore(cutoff: number): Promise<number> {
    const result = await this.database.db
      .deleteFrom('metric_batches')
      .where('stored_at', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
