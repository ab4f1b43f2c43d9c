import { Kysely, PostgresAdapter } from 'kysely';
import { decodeRollup, encodeRollup, RollupBucket } from './chunk-codec';

/** Converted rows per INSERT: a few MB of rollups at most, and well under SQLite's parameter limit. */
const INSERT_ROWS = 200;

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema of their time, not IngestionDB */

/**
 * 0007: a rollup row holds one metric of one agent (all its tag sets) instead of all of the agent's
 * metrics, so a chart reads only the metric it draws (a 24 h chart of one metric of a 20-series agent
 * read 2.5× the bytes it used; an agent with more metrics, more). Existing rows are split by the
 * metric name of their series, per agent, and the old table is replaced.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('metric_rollups_by_name')
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('step_ms', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('data', postgres ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('metric_rollups_name_pk', ['agent_id', 'name', 'step_ms', 'window_start'])
    .execute();

  const agents = await db.selectFrom('metric_rollups').select('agent_id').distinct().execute();
  for (const { agent_id: agentId } of agents as { agent_id: string }[]) {
    const nameOf = new Map<number, string>();
    for (const s of (await db
      .selectFrom('metric_series')
      .select(['series_id', 'name'])
      .where('agent_id', '=', agentId)
      .execute()) as { series_id: number | string; name: string }[])
      nameOf.set(Number(s.series_id), s.name);
    const rows = (await db
      .selectFrom('metric_rollups')
      .select(['step_ms', 'window_start', 'data'])
      .where('agent_id', '=', agentId)
      .execute()) as { step_ms: number | string; window_start: number | string; data: Uint8Array }[];
    const converted: Record<string, unknown>[] = [];
    for (const row of rows) {
      const stepMs = Number(row.step_ms);
      const windowStart = Number(row.window_start);
      const byName = new Map<string, RollupBucket[]>();
      for (const b of decodeRollup(row.data, windowStart, stepMs)) {
        // A series no longer in metric_series cannot be charted (reads start from the series): dropped.
        const name = nameOf.get(b.seriesId);
        if (name === undefined) continue;
        let list = byName.get(name);
        if (!list) byName.set(name, (list = []));
        list.push(b);
      }
      for (const [name, buckets] of byName)
        converted.push({
          agent_id: agentId,
          name,
          step_ms: stepMs,
          window_start: windowStart,
          data: encodeRollup(buckets, windowStart, stepMs),
        });
    }
    for (let i = 0; i < converted.length; i += INSERT_ROWS)
      await db
        .insertInto('metric_rollups_by_name')
        .values(converted.slice(i, i + INSERT_ROWS))
        .execute();
  }

  await db.schema.dropTable('metric_rollups').execute();
  await db.schema.alterTable('metric_rollups_by_name').renameTo('metric_rollups').execute();
  // Retention deletes by window.
  await db.schema.createIndex('metric_rollups_window').on('metric_rollups').column('window_start').execute();
}
