import { Kysely, PostgresAdapter, sql } from 'kysely';
import { createEventOutboxTable } from '@app/outbox';
import { Migrations } from '@app/persistence';
import { up as chunkSchema } from './metrics/chunk-schema.migration';
import { up as rollupsByMetric } from './metrics/rollups-by-metric.migration';

/** Schema of the ingestion service, applied at start-up. Timestamps are ms since epoch (bigint). */
export const migrations: Migrations = {
  '0001_agents_batches_samples': {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('agents')
        .addColumn('agent_id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('interval_seconds', 'double precision', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_changed_at', 'bigint')
        .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
        .execute();
      // The liveness sweep reads only online agents.
      await db.schema.createIndex('agents_status').on('agents').column('status').execute();

      await db.schema
        .createTable('metric_batches')
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('stored_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('metric_batches_pk', ['agent_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('metric_batches_stored_at')
        .on('metric_batches')
        .column('stored_at')
        .execute();

      await db.schema
        .createTable('samples')
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('unit', 'text')
        .execute();
      // "One agent, one metric, a time range" is the only read; retention scans in insertion order.
      await db.schema
        .createIndex('samples_agent_name_ts')
        .on('samples')
        .columns(['agent_id', 'name', 'ts'])
        .execute();
    },
  },
  '0002_event_outbox': {
    up: (db: Kysely<unknown>) => createEventOutboxTable(db),
  },
  '0003_agent_health_and_version': {
    up: async (db: Kysely<unknown>) => {
      for (const column of ['reported_state', 'health', 'version', 'announced_version'])
        await db.schema.alterTable('agents').addColumn(column, 'text').execute();
    },
  },
  '0004_metrics_audit': {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('metrics_audit')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('audited_seq', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0005_metric_chunks_and_rollups': {
    up: chunkSchema,
  },
  // SQLite only: a rowid table with a (text, int) primary key writes two b-trees per batch key; without
  // rowid the key is the table (one fewer insert on the hottest write; PostgreSQL has no rowid).
  '0006_metric_batches_without_rowid': {
    up: async (db: Kysely<unknown>) => {
      if (db.getExecutor().adapter instanceof PostgresAdapter) return;
      await db.schema
        .createTable('metric_batches_keyed')
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('stored_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('metric_batches_keyed_pk', ['agent_id', 'seq'])
        .modifyEnd(sql`without rowid`)
        .execute();
      await sql`insert into metric_batches_keyed (agent_id, seq, stored_at) select agent_id, seq, stored_at from metric_batches`.execute(
        db,
      );
      await db.schema.dropTable('metric_batches').execute();
      await db.schema.alterTable('metric_batches_keyed').renameTo('metric_batches').execute();
      await db.schema
        .createIndex('metric_batches_stored_at')
        .on('metric_batches')
        .column('stored_at')
        .execute();
    },
  },
  '0007_rollups_per_metric': {
    up: rollupsByMetric,
  },
};
