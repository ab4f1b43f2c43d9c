import { Kysely, sql } from 'kysely';
import { createEventOutboxTable } from '@app/outbox';
import { Migrations } from '@app/persistence';

/** Schema of the provisioning service, applied at start-up. Timestamps are ms since epoch (bigint). */
export const migrations: Migrations = {
  '0001_environments_agents_audit': {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('environments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('environments_organization_name', ['organization_id', 'name'])
        .execute();

      await db.schema
        .createTable('agents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('os', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('credential_token_id', 'text')
        .addColumn('enrollment_token_id', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        // Re-enrollment finds the host's record by this key; two racing enrollments cannot both insert.
        .addUniqueConstraint('agents_organization_environment_host', [
          'organization_id',
          'environment',
          'host_id',
        ])
        .execute();
      await db.schema
        .createIndex('agents_organization_status')
        .on('agents')
        .columns(['organization_id', 'status'])
        .execute();

      await db.schema
        .createTable('agent_labels')
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('agent_labels_pk', ['agent_id', 'key'])
        .execute();
      await db.schema
        .createIndex('agent_labels_organization_key_value')
        .on('agent_labels')
        .columns(['organization_id', 'key', 'value'])
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_log_organization_at')
        .on('audit_log')
        .columns(['organization_id', 'at'])
        .execute();
    },
  },
  '0002_event_outbox': {
    up: (db: Kysely<unknown>) => createEventOutboxTable(db),
  },
  // Agents hold their own key now: the registry points at the agent's identity in the token service.
  '0003_agent_identity': {
    up: async (db: Kysely<unknown>) => {
      await db.schema.alterTable('agents').renameColumn('credential_token_id', 'identity_id').execute();
    },
  },
  // Tokens issued through /environments/<name>/tokens did not create the environment, so agents enrolled
  // there belonged to an environment nobody listed: every environment agents name exists from now on.
  '0004_environments_of_enrolled_agents': {
    up: async (db: Kysely<unknown>) => {
      await sql`
        insert into environments (id, organization_id, name, created_at)
        select 'env_' || a.organization_id || '_' || a.environment, a.organization_id, a.environment,
               min(a.first_seen_at)
        from agents a
        where not exists (
          select 1 from environments e where e.organization_id = a.organization_id and e.name = a.environment
        )
        group by a.organization_id, a.environment`.execute(db);
    },
  },
  // Lifecycle: a revoked agent's host may be allowed to enroll again, and organisations may set an
  // inactive-agent cleanup (null: off, the default).
  '0005_agent_lifecycle': {
    up: async (db: Kysely<unknown>) => {
      await db.schema.alterTable('agents').addColumn('reenroll_allowed_at', 'bigint').execute();
      await db.schema
        .createTable('fleet_settings')
        .addColumn('organization_id', 'text', (c) => c.primaryKey())
        .addColumn('inactive_agent_cleanup_days', 'integer')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  // Remote configuration (issue 14): immutable versions per environment, one sequence per environment,
  // and what each agent last reported applying. 0006: the lifecycle work (built in parallel) took 0005.
  '0006_agent_configs': {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('config_sequences')
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('last_version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('config_sequences_pk', ['organization_id', 'environment'])
        .execute();
      await db.schema
        .createTable('config_versions')
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        // Null: the environment's config; else an override of that agent.
        .addColumn('agent_id', 'text')
        // JSON settings; null for an override removed.
        .addColumn('settings', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('config_versions_pk', ['organization_id', 'environment', 'version'])
        .execute();
      await db.schema
        .createIndex('config_versions_agent')
        .on('config_versions')
        .columns(['organization_id', 'agent_id', 'version'])
        .execute();
      await db.schema
        .createTable('agent_config_status')
        .addColumn('agent_id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('applied_version', 'integer')
        .addColumn('failed_version', 'integer')
        .addColumn('error', 'text')
        .addColumn('reported_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
};
