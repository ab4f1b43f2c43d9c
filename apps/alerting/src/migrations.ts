import { Kysely } from 'kysely';
import { Migrations } from '@app/persistence';

/** Schema of the alerting service, applied at start-up. Timestamps are ms since epoch (bigint). */
export const migrations: Migrations = {
  '0001_alerting': {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('alert_rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('environment', 'text')
        .addColumn('agent_type', 'text')
        .addColumn('label', 'text')
        .addColumn('offline_seconds', 'bigint')
        .addColumn('threshold', 'bigint')
        .addColumn('window_seconds', 'bigint')
        .addColumn('channel_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('alert_rules_org_kind')
        .on('alert_rules')
        .columns(['organization_id', 'kind'])
        .execute();

      await db.schema
        .createTable('channels')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('channels_org').on('channels').column('organization_id').execute();

      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('rule_name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text')
        .addColumn('environment', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('fired_at', 'bigint')
        .addColumn('resolved_at', 'bigint')
        .execute();
      // A redelivered event finds its alert already there instead of opening a second one.
      await db.schema
        .createIndex('alerts_rule_event')
        .unique()
        .on('alerts')
        .columns(['rule_id', 'event_id'])
        .execute();
      await db.schema
        .createIndex('alerts_org_opened')
        .on('alerts')
        .columns(['organization_id', 'opened_at'])
        .execute();
      await db.schema.createIndex('alerts_state_due').on('alerts').columns(['state', 'due_at']).execute();
      await db.schema
        .createIndex('alerts_org_agent_state')
        .on('alerts')
        .columns(['organization_id', 'agent_id', 'state'])
        .execute();

      await db.schema
        .createTable('agent_presence')
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('last_online_at', 'bigint', (c) => c.notNull())
        .addColumn('last_offline_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('agent_presence_pk', ['organization_id', 'agent_id'])
        .execute();

      await db.schema
        .createTable('rule_hits')
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rule_hits_pk', ['rule_id', 'event_id'])
        .execute();
      await db.schema.createIndex('rule_hits_rule_at').on('rule_hits').columns(['rule_id', 'at']).execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn('alert_id', 'text', (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('transition', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      // One notification per alert, channel and state change, however often the transition is attempted.
      await db.schema
        .createIndex('deliveries_alert_channel_transition')
        .unique()
        .on('deliveries')
        .columns(['alert_id', 'channel_id', 'transition'])
        .execute();
      await db.schema
        .createIndex('deliveries_status_next')
        .on('deliveries')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('deliveries_org_created')
        .on('deliveries')
        .columns(['organization_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('delivery_attempts')
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_attempts_pk', ['delivery_id', 'attempt'])
        .execute();
    },
  },
  // A person can take an alert on by hand; the alert keeps its state.
  '0002_alert_acknowledgement': {
    up: async (db: Kysely<unknown>) => {
      await db.schema.alterTable('alerts').addColumn('acknowledged_at', 'bigint').execute();
      await db.schema.alterTable('alerts').addColumn('acknowledged_by', 'text').execute();
    },
  },
};
