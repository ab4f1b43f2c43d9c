/**
 * The metrics store's shape, before (one indexed row per sample, migration 0001's `samples` table)
 * and after (encoded chunks per agent and hour, compacted, with rollups), same data, same run:
 * store size per million samples, and a 24 h chart of one agent with the whole fleet's day stored.
 *
 *   node -r @swc-node/register bench/metrics-storage.ts
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node -r @swc-node/register bench/metrics-storage.ts
 *   BENCH_AGENTS=50 (default) agents × 24 h × 20 series at 10 s; BENCH_QUERY_RUNS=200 (default) timed runs per chart
 *
 * Data are written straight through the repositories (the ingestion path is ingestion-metrics.ts); write
 * time counts the store calls only, not making up the batches.
 * Writes bench/results/metrics-storage-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, sql } from 'kysely';
import { loadConfig } from '@app/config';
import { Database, Engine, migrateToLatest, Migrations, openDatabase } from '@app/persistence';
import { createTestDatabase, testEngines } from '@app/testing';
import { ManualClock } from '@app/clock';
import { CompactionJob } from '../apps/ingestion/src/compaction/compaction-job';
import { IngestionConfig } from '../apps/ingestion/src/config';
import { IngestionDB, SampleRow } from '../apps/ingestion/src/database';
import { HOUR_MS } from '../apps/ingestion/src/metrics/chunk-codec';
import { MetricsRepository } from '../apps/ingestion/src/metrics/metrics.repository';
import { rowsToBodies } from '../apps/ingestion/test/ingestion-fixtures';
import { StoredMetricsRepository } from '../apps/ingestion/src/metrics/stored-metrics.repository';
import { CompactionRepository } from '../apps/ingestion/src/compaction/compaction.repository';
import { migrations } from '../apps/ingestion/src/migrations';
import { SeriesReader } from '../apps/ingestion/src/query/series-reader';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 50);
const SERIES = 20;
const INTERVAL_MS = 10_000;
const HOURS = 24;
/**
 * Batches per write: what one fetch of the consumer commits at once, and never two of one agent (a
 * fleet is much larger than a fetch, so a fetch rarely holds two batches of an agent).
 */
const BATCHES_PER_WRITE = Math.min(500, AGENTS);
/** Timed runs per chart after a warm-up: enough that the p95 is the 95th percentile, not the slowest run. */
const QUERY_RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 200);
/** Runs of the slow reads (the old table, uncompacted chunks: 0.2–0.7 s each); their p95 is their slowest run. */
const SLOW_QUERY_RUNS = 20;
/** Warm-up runs: the decoders are compiled by V8 before the clock starts, as in a running service. */
const WARMUP_RUNS = 10;
const CHART_AGENT = `a-${String(Math.min(7, AGENTS - 1)).padStart(5, '0')}`;
const DAY_START = Date.UTC(2026, 0, 10);
const NOW = DAY_START + HOURS * HOUR_MS + 10 * 60_000;

/* eslint-disable @typescript-eslint/no-explicit-any -- the old table is not in IngestionDB any more */

/** One collection of one agent: 20 series (cpu per core, memory, disk…), values that move like a host's. */
function collection(agent: number, i: number): SampleRow[] {
  const agentId = `a-${String(agent).padStart(5, '0')}`;
  const ts = DAY_START + i * INTERVAL_MS + (agent % 10) * 37;
  return Array.from({ length: SERIES }, (_, s) => ({
    agent_id: agentId,
    name: s < 8 ? 'system.cpu.usage' : `system.metric_${s}`,
    tags: s < 8 ? `{"core":"${s}"}` : '{}',
    ts,
    value:
      s < 8
        ? Math.round((30 + 20 * Math.sin((i + agent) / 50) + ((i * 7 + s) % 13)) * 100) / 100
        : 1e9 + i * s,
    unit: s < 8 ? '%' : 'By',
  }));
}

const collections = (HOURS * HOUR_MS) / INTERVAL_MS;

type RowBatch = { agentId: string; seq: number; samples: SampleRow[] };

function* writes(): Generator<RowBatch[]> {
  let group: RowBatch[] = [];
  for (let i = 0; i < collections; i++)
    for (let agent = 0; agent < AGENTS; agent++) {
      group.push({ agentId: `a-${String(agent).padStart(5, '0')}`, seq: i, samples: collection(agent, i) });
      if (group.length === BATCHES_PER_WRITE) {
        yield group;
        group = [];
      }
    }
  if (group.length) yield group;
}

async function storeBytes(database: Database<any>, tables: string[]): Promise<number> {
  if (database.engine === 'postgres') {
    const row = await sql<{ n: string }>`select sum(pg_total_relation_size(c.oid))::int8 as n from pg_class c
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${database.schema} and c.relname in (${sql.join(tables)})`.execute(
      database.db,
    );
    return Number(row.rows[0].n);
  }
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(database.db);
  const pages = await sql<{ page_count: number }>`pragma page_count`.execute(database.db);
  const free = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(database.db);
  const size = await sql<{ page_size: number }>`pragma page_size`.execute(database.db);
  return (pages.rows[0].page_count - free.rows[0].freelist_count) * size.rows[0].page_size;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeQueries(
  run: () => Promise<unknown>,
  runs = QUERY_RUNS,
): Promise<{ medianMs: number; p95Ms: number }> {
  for (let i = 0; i < Math.min(WARMUP_RUNS, runs); i++) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { medianMs: median(times), p95Ms: times[Math.floor(times.length * 0.95)] };
}

/** Before: the row-per-sample table and its (agent_id, name, ts) index, written and read as the old repository did. */
async function before(engine: Engine) {
  const fixture = await createTestDatabase(engine, 'ingestion');
  const database = await openDatabase<any>(fixture.options);
  try {
    const old: Migrations = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0005'));
    await migrateToLatest(database.db, old);
    if (engine === 'sqlite') await sql.raw('pragma cache_size = -65536').execute(database.db);
    let writeNanos = 0n;
    let samples = 0;
    for (const group of writes()) {
      const rows = group.flatMap((b) => b.samples);
      samples += rows.length;
      const started = process.hrtime.bigint();
      await database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('metric_batches')
          .values(group.map((b) => ({ agent_id: b.agentId, seq: b.seq, stored_at: NOW })))
          .execute();
        if (engine === 'postgres')
          await trx.executeQuery(
            CompiledQuery.raw(
              'insert into samples (agent_id, name, tags, ts, value, unit) select * from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::float8[], $6::text[])',
              [
                rows.map((s) => s.agent_id),
                rows.map((s) => s.name),
                rows.map((s) => s.tags),
                rows.map((s) => s.ts),
                rows.map((s) => s.value),
                rows.map((s) => s.unit),
              ],
            ),
          );
        else
          for (let i = 0; i < rows.length; i += 5000) {
            const part = rows.slice(i, i + 5000);
            await trx.executeQuery(
              CompiledQuery.raw(
                `insert into samples (agent_id, name, tags, ts, value, unit) values ${part.map(() => '(?,?,?,?,?,?)').join(',')}`,
                part.flatMap((s) => [s.agent_id, s.name, s.tags, s.ts, s.value, s.unit]),
              ),
            );
          }
      });
      writeNanos += process.hrtime.bigint() - started;
    }
    const writeSeconds = Number(writeNanos) / 1e9;
    const bytes = await storeBytes(database, ['samples', 'samples_agent_name_ts']);
    const step = sql.lit(60_000);
    const chart = () =>
      sql`
      select tags, max(unit) as unit, bucket, avg(value) as avg, min(value) as min, max(value) as max,
             max(case when rn = 1 then value end) as last, count(*) as count
      from (
        select tags, unit, value, (ts / ${step}) * ${step} as bucket,
               row_number() over (partition by tags, ts / ${step} order by ts desc) as rn
        from samples
        where agent_id = ${CHART_AGENT} and name = ${'system.cpu.usage'} and ts >= ${DAY_START} and ts < ${DAY_START + HOURS * HOUR_MS}
      ) s
      group by tags, bucket
      order by tags, bucket`.execute(database.db);
    const query = await timeQueries(chart, SLOW_QUERY_RUNS);
    return {
      samples,
      writeSeconds,
      samplesPerSecond: samples / writeSeconds,
      bytes,
      bytesPerMillion: (bytes / samples) * 1e6,
      query,
    };
  } finally {
    await database.close();
    await fixture.cleanup();
  }
}

/** After: chunks through MetricsRepository, compacted by CompactionJob, read by SeriesReader. */
async function after(engine: Engine) {
  const fixture = await createTestDatabase(engine, 'ingestion');
  const database = await openDatabase<IngestionDB>(fixture.options);
  try {
    await migrateToLatest(database.db, migrations);
    const repository = new MetricsRepository(database);
    await repository.tuneForIngestion(64);
    let writeNanos = 0n;
    let samples = 0;
    for (const group of writes()) {
      const bodies = rowsToBodies(group, NOW);
      const started = process.hrtime.bigint();
      samples += (await repository.storeBatches(bodies, NOW)).samples;
      writeNanos += process.hrtime.bigint() - started;
    }
    const writeSeconds = Number(writeNanos) / 1e9;
    const tables = [
      'metric_series',
      'metric_chunks',
      'metric_rollups',
      'metric_series_key',
      'metric_chunks_agent_hour',
      'metric_chunks_hour',
      'metric_chunks_pending',
      'metric_rollups_pk',
      'metric_rollups_name_pk',
      'metric_rollups_window',
      'metric_series_pkey',
      'metric_chunks_pkey',
    ];
    const uncompactedBytes = await storeBytes(database, tables);
    const reader = new SeriesReader(new StoredMetricsRepository(database));
    const chart = (from: number, to: number, stepMs: number) => () =>
      reader.bucketed(CHART_AGENT, 'system.cpu.usage', from, to, stepMs);
    const end = DAY_START + HOURS * HOUR_MS;
    const uncompactedQuery = await timeQueries(chart(DAY_START, end, 60_000), SLOW_QUERY_RUNS);
    const config = loadConfig(IngestionConfig, {});
    let compactionSeconds = 0;
    const compact = async (now: number) => {
      const t = process.hrtime.bigint();
      const compacted = await new CompactionJob(
        new CompactionRepository(database),
        new StoredMetricsRepository(database),
        new ManualClock(now),
        config,
      ).run();
      compactionSeconds += Number(process.hrtime.bigint() - t) / 1e9;
      return compacted;
    };
    // First every hour but the last, as a live store is: its newest hour is still batch chunks.
    let hours = await compact(end - HOUR_MS + 10 * 60_000);
    const liveQuery = await timeQueries(chart(DAY_START, end, 60_000));
    hours += await compact(NOW + HOUR_MS);
    if (engine === 'sqlite') await sql`vacuum`.execute(database.db);
    else await sql`vacuum full`.execute(database.db);
    const bytes = await storeBytes(database, tables);
    const query = await timeQueries(chart(DAY_START, end, 60_000));
    const unaligned = await timeQueries(chart(DAY_START + 12_345, end - 6_789, 300_000));
    const month = await timeQueries(chart(DAY_START - 29 * 86_400_000, end, HOUR_MS));
    return {
      samples,
      writeSeconds,
      samplesPerSecond: samples / writeSeconds,
      uncompactedBytesPerMillion: (uncompactedBytes / samples) * 1e6,
      uncompactedQuery,
      liveQuery,
      compactedHours: hours,
      compactionSeconds,
      compactionSamplesPerSecond: samples / compactionSeconds,
      bytes,
      bytesPerMillion: (bytes / samples) * 1e6,
      query,
      unaligned,
      month,
    };
  } finally {
    await database.close();
    await fixture.cleanup();
  }
}

/**
 * The alternative to the compaction job: rollups maintained at write time, one upsert per series and
 * resolution for every batch (what a write-time design must do; a fetch rarely holds two batches of one
 * agent, so nothing folds before the database). Measured as chunk writes plus those upserts.
 */
async function writeTimeRollups(engine: Engine) {
  const fixture = await createTestDatabase(engine, 'ingestion');
  const database = await openDatabase<IngestionDB>(fixture.options);
  try {
    await migrateToLatest(database.db, migrations);
    const repository = new MetricsRepository(database);
    await repository.tuneForIngestion(64);
    const real = engine === 'postgres' ? 'double precision' : 'real';
    await sql
      .raw(
        `create table bench_rollups (agent_id text not null, series text not null, step_ms integer not null,
         bucket bigint not null, count integer not null, sum ${real} not null, min ${real} not null, max ${real} not null,
         last ${real} not null, last_ts bigint not null, primary key (agent_id, series, step_ms, bucket))`,
      )
      .execute(database.db);
    const [least, greatest] = engine === 'postgres' ? ['least', 'greatest'] : ['min', 'max'];
    const upsert = (rows: number) =>
      `insert into bench_rollups values ${new Array(rows).fill('(?,?,?,?,?,?,?,?,?,?)').join(',')}
       on conflict (agent_id, series, step_ms, bucket) do update set count = bench_rollups.count + excluded.count,
       sum = bench_rollups.sum + excluded.sum, min = ${least}(bench_rollups.min, excluded.min),
       max = ${greatest}(bench_rollups.max, excluded.max),
       last = case when excluded.last_ts >= bench_rollups.last_ts then excluded.last else bench_rollups.last end,
       last_ts = ${greatest}(bench_rollups.last_ts, excluded.last_ts)`;
    let writeNanos = 0n;
    let samples = 0;
    for (const group of writes()) {
      const bodies = rowsToBodies(group, NOW);
      const started = process.hrtime.bigint();
      samples += (await repository.storeBatches(bodies, NOW)).samples;
      const params: unknown[] = [];
      for (const b of group)
        for (const s of b.samples)
          for (const step of [60_000, HOUR_MS]) {
            const bucket = Math.floor(s.ts / step) * step;
            params.push(
              b.agentId,
              `${s.name}${s.tags}`,
              step,
              bucket,
              1,
              s.value,
              s.value,
              s.value,
              s.value,
              s.ts,
            );
          }
      await database.db.transaction().execute(async (trx) => {
        // 10 parameters a row: 3,000 rows per statement stay under SQLite's 32,766.
        for (let i = 0; i < params.length; i += 30_000) {
          const part = params.slice(i, i + 30_000);
          const text =
            engine === 'postgres'
              ? upsert(part.length / 10).replace(
                  /\?/g,
                  (() => {
                    let n = 0;
                    return () => `$${++n}`;
                  })(),
                )
              : upsert(part.length / 10);
          await trx.executeQuery(CompiledQuery.raw(text, part));
        }
      });
      writeNanos += process.hrtime.bigint() - started;
    }
    const writeSeconds = Number(writeNanos) / 1e9;
    return { samples, writeSeconds, samplesPerSecond: samples / writeSeconds };
  } finally {
    await database.close();
    await fixture.cleanup();
  }
}

async function main() {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  const runs = [];
  for (const engine of testEngines()) {
    const loadBefore = load();
    const b = await before(engine);
    const a = await after(engine);
    const w = await writeTimeRollups(engine);
    runs.push({ engine, before: b, after: a, writeTimeRollups: w, load: `${loadBefore} → ${load()}` });
  }
  console.log(
    `\n${AGENTS} agents × ${HOURS} h × ${SERIES} series at ${INTERVAL_MS / 1000} s (${AGENTS * collections * SERIES} samples)\n`,
  );
  console.log('| engine | figure | before: row per sample | after: chunks + rollups | after / before |');
  console.log('|---|---|---:|---:|---:|');
  for (const { engine, before: b, after: a, writeTimeRollups: w, load: l } of runs) {
    const row = (figure: string, x: string, y: string, ratio: string) =>
      console.log(`| ${engine} | ${figure} | ${x} | ${y} | ${ratio} |`);
    row(
      'repository write, samples/s',
      b.samplesPerSecond.toFixed(0),
      a.samplesPerSecond.toFixed(0),
      (a.samplesPerSecond / b.samplesPerSecond).toFixed(2) + '×',
    );
    row(
      'write with rollups upserted at write time instead (1 min + 1 h per series per batch), samples/s',
      '',
      w.samplesPerSecond.toFixed(0),
      `${(w.samplesPerSecond / a.samplesPerSecond).toFixed(2)}× chunks alone`,
    );
    row(
      'store size per million samples',
      `${(b.bytesPerMillion / 2 ** 20).toFixed(1)} MiB`,
      `${(a.bytesPerMillion / 2 ** 20).toFixed(2)} MiB (uncompacted ${(a.uncompactedBytesPerMillion / 2 ** 20).toFixed(1)} MiB)`,
      (a.bytesPerMillion / b.bytesPerMillion).toFixed(3) + '×',
    );
    row(
      '24 h chart, 1 agent, 8 series, 1-min step (median / p95)',
      `${b.query.medianMs.toFixed(1)} / ${b.query.p95Ms.toFixed(1)} ms`,
      `${a.query.medianMs.toFixed(1)} / ${a.query.p95Ms.toFixed(1)} ms (uncompacted ${a.uncompactedQuery.medianMs.toFixed(1)} ms)`,
      (a.query.medianMs / b.query.medianMs).toFixed(3) + '×',
    );
    row(
      '24 h chart, last hour not compacted yet (its 360 batch chunks)',
      '',
      `${a.liveQuery.medianMs.toFixed(1)} / ${a.liveQuery.p95Ms.toFixed(1)} ms`,
      '',
    );
    row(
      '24 h chart, unaligned range, 5-min step',
      '',
      `${a.unaligned.medianMs.toFixed(1)} / ${a.unaligned.p95Ms.toFixed(1)} ms`,
      '',
    );
    row('30-day chart, 1-h step', '', `${a.month.medianMs.toFixed(1)} / ${a.month.p95Ms.toFixed(1)} ms`, '');
    row(
      'compaction (merge + rollups), samples/s',
      '',
      `${a.compactionSamplesPerSecond.toFixed(0)} (${a.compactedHours} agent-hours in ${a.compactionSeconds.toFixed(1)} s)`,
      '',
    );
    console.log(`| ${engine} | load average (1/5/15 min) | ${l} | | |`);
  }
  const results = join(__dirname, 'results');
  mkdirSync(results, { recursive: true });
  const file = join(results, `metrics-storage-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ agents: AGENTS, hours: HOURS, series: SERIES, runs }, null, 2));
  console.log(`\nwrote ${file}`);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
