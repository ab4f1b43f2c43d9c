import { Kysely, PostgresAdapter, sql } from 'kysely';
import { HOUR_MS, encodeChunk, EncodedSample } from './chunk-codec';

/** Agents whose rows are converted per statement group; each agent's rows are read whole. */
const INSERT_ROWS = 500;

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema of their time, not IngestionDB */

/**
 * 0005: samples move from one indexed row each into encoded chunks per (agent, hour), with a series
 * dictionary and rollup tables. Existing rows are converted (as uncompacted chunks: the compaction
 * job then merges each hour and writes its rollups), and the old table is dropped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres ? 'bigserial' : 'integer';
  const blob = postgres ? 'bytea' : 'blob';
  await db.schema
    .createTable('metric_series')
    .addColumn('series_id', id, (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('unit', 'text')
    .addUniqueConstraint('metric_series_key', ['agent_id', 'name', 'tags'])
    .execute();

  await db.schema
    .createTable('metric_chunks')
    .addColumn('chunk_id', id, (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('hour_start', 'bigint', (c) => c.notNull())
    .addColumn('sample_count', 'integer', (c) => c.notNull())
    .addColumn('compacted', 'integer', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .execute();
  // Every read is "one agent, a range of hours".
  await db.schema
    .createIndex('metric_chunks_agent_hour')
    .on('metric_chunks')
    .columns(['agent_id', 'hour_start'])
    .execute();
  // Retention drops whole hours.
  await db.schema.createIndex('metric_chunks_hour').on('metric_chunks').column('hour_start').execute();
  // The compaction job's work list: only chunks not merged yet, a small fraction of the table.
  await db.schema
    .createIndex('metric_chunks_pending')
    .on('metric_chunks')
    .column('hour_start')
    .where(sql.ref('compacted'), '=', 0)
    .execute();

  await db.schema
    .createTable('metric_rollups')
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('step_ms', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('metric_rollups_pk', ['agent_id', 'step_ms', 'window_start'])
    .execute();
  await db.schema.createIndex('metric_rollups_window').on('metric_rollups').column('window_start').execute();

  await convertSamples(db);
  await db.schema.dropTable('samples').execute();
}

interface OldSample {
  name: string;
  tags: string;
  ts: number | string;
  value: number;
  unit: string | null;
}

async function convertSamples(db: Kysely<any>): Promise<void> {
  const agents = await db.selectFrom('samples').select('agent_id').distinct().execute();
  for (const { agent_id: agentId } of agents as { agent_id: string }[]) {
    const rows = (await db
      .selectFrom('samples')
      .select(['name', 'tags', 'ts', 'value', 'unit'])
      .where('agent_id', '=', agentId)
      .execute()) as OldSample[];
    const units = new Map<string, { name: string; tags: string; unit: string | null }>();
    for (const r of rows) {
      const key = `${r.name}\u0000${r.tags}`;
      const known = units.get(key);
      if (!known) units.set(key, { name: r.name, tags: r.tags, unit: r.unit });
      else known.unit ??= r.unit;
    }
    const series = [...units.values()];
    for (let i = 0; i < series.length; i += INSERT_ROWS)
      await db
        .insertInto('metric_series')
        .values(series.slice(i, i + INSERT_ROWS).map((s) => ({ agent_id: agentId, ...s })))
        .execute();
    const ids = new Map<string, number>();
    for (const s of (await db
      .selectFrom('metric_series')
      .select(['series_id', 'name', 'tags'])
      .where('agent_id', '=', agentId)
      .execute()) as { series_id: number | string; name: string; tags: string }[])
      ids.set(`${s.name}\u0000${s.tags}`, Number(s.series_id));
    const hours = new Map<number, EncodedSample[]>();
    for (const r of rows) {
      const ts = Number(r.ts);
      const hour = Math.floor(ts / HOUR_MS) * HOUR_MS;
      let list = hours.get(hour);
      if (!list) hours.set(hour, (list = []));
      list.push({ seriesId: ids.get(`${r.name}\u0000${r.tags}`)!, ts, value: Number(r.value) });
    }
    const chunks = [...hours].map(([hour, samples]) => ({
      agent_id: agentId,
      hour_start: hour,
      sample_count: samples.length,
      compacted: 0,
      data: encodeChunk(samples, hour),
    }));
    for (let i = 0; i < chunks.length; i += INSERT_ROWS)
      await db
        .insertInto('metric_chunks')
        .values(chunks.slice(i, i + INSERT_ROWS))
        .execute();
  }
}
