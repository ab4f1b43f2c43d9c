import { Kysely, sql } from 'kysely';
import { createEventOutboxTable } from '@app/outbox';
import { Migrations } from '@app/persistence';

/** Schema of the tokens service, applied at start-up. Timestamps are ms since epoch (bigint). */
export const migrations: Migrations = {
  '0001_organizations_and_tokens': {
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('organizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
        .addColumn('environment', 'text')
        .addColumn('agent_id', 'text')
        .addColumn('name', 'text')
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('hint', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('max_uses', 'bigint')
        .addColumn('uses', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
        .addColumn('last_used_at', 'bigint')
        .addColumn('grace_until', 'bigint')
        .addColumn('replaced_by', 'text')
        .execute();
      // Verification is one lookup on this index.
      await db.schema.createIndex('tokens_hash').unique().on('tokens').column('hash').execute();
      await db.schema
        .createIndex('tokens_organization_kind_environment')
        .on('tokens')
        .columns(['organization_id', 'kind', 'environment'])
        .execute();
    },
  },
  '0002_event_outbox': {
    up: (db: Kysely<unknown>) => createEventOutboxTable(db),
  },
  '0003_agent_identities': {
    up: async (db: Kysely<unknown>) => {
      // An agent's public key on record; the platform signs short-lived NATS user JWTs for it.
      await db.schema
        .createTable('agent_identities')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('jwt_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoke_reason', 'text')
        .execute();
      await db.schema
        .createIndex('agent_identities_agent')
        .on('agent_identities')
        .column('agent_id')
        .execute();
      // The revocation list pushed to NATS is read by this.
      await db.schema
        .createIndex('agent_identities_revoked')
        .on('agent_identities')
        .column('revoked_at')
        .execute();
    },
  },
  // Agents now authenticate with their own key; the shared-secret agent credentials are gone.
  '0004_drop_agent_credentials': {
    up: async (db: Kysely<unknown>) => {
      await sql`delete from tokens where kind = 'agent'`.execute(db);
      await db.schema.alterTable('tokens').dropColumn('agent_id').execute();
    },
  },
  // API key scopes; keys made before them keep every right they had.
  '0005_api_key_scope': {
    up: async (db: Kysely<unknown>) => {
      await db.schema.alterTable('tokens').addColumn('scope', 'text').execute();
      await sql`update tokens set scope = 'admin' where kind = 'api_key'`.execute(db);
    },
  },
};
