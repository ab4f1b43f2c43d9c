import { Kysely, Migration, MigrationProvider, Migrator } from 'kysely';
import type { Database } from './database';

/** Migrations are plain objects in the repo, keyed by a sortable name (`0001_tokens`). */
export type Migrations = Record<string, Migration>;

class InlineMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Migrations) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/**
 * Applies every pending migration; throws with the failing migration's name so start-up stops clearly.
 * On PostgreSQL pass the service's schema: Kysely looks for its bookkeeping tables in every schema,
 * so without it a second service in the same database would find the first one's and skip creating its own.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  migrations: Migrations,
  schema?: string,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InlineMigrationProvider(migrations),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * migrateToLatest for an opened Database: uses its PostgreSQL schema when it has one. Kysely takes no
 * migration lock on SQLite, so two processes starting on one file can collide: the loser's first
 * CREATE fails ("already exists"), and its retry finds the winner's migrations recorded and nothing pending.
 */
export async function migrateDatabase<DB>(database: Database<DB>, migrations: Migrations): Promise<string[]> {
  const attempts = database.engine === 'sqlite' ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateToLatest(database.db, migrations, database.schema);
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
}
