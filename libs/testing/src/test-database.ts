import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { DatabaseOptions, Engine } from '@app/persistence';
import { currentTestFile, requireTool, toolAvailable } from './optional-tools';

/**
 * SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). In a spec file a
 * missing PostgreSQL is reported like any optional tool (requireTool); the benchmarks call this
 * outside Jest, where there is no test to skip.
 */
export function testEngines(): Engine[] {
  const postgres = currentTestFile() ? requireTool('postgresql').available : toolAvailable('postgresql');
  return postgres ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDatabase {
  engine: Engine;
  /** Pass to openDatabase(); `name` is unique so PostgreSQL gets a fresh schema. */
  options: DatabaseOptions;
  /** What a service process needs in its environment to use this database. */
  env: { DATA_DIR: string; DATABASE_URL?: string };
  cleanup(): Promise<void>;
}

/**
 * A fresh, empty database for one test or suite. For PostgreSQL each service's data lives in
 * a schema named after the service, so a fresh database is a fresh PostgreSQL *database*:
 * we create one with a random name on the TEST_DATABASE_URL server and drop it afterwards.
 */
export async function createTestDatabase(engine: Engine, name: string): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rca-db-'));
  if (engine === 'sqlite') {
    return {
      engine,
      options: { dataDir, name },
      env: { DATA_DIR: dataDir },
      cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const baseUrl = process.env.TEST_DATABASE_URL;
  if (!baseUrl) throw new Error('TEST_DATABASE_URL is not set: gate PostgreSQL tests with requireTool');
  const dbName = `rca_test_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: baseUrl, max: 1 });
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  return {
    engine,
    options: { dataDir, name, databaseUrl, poolSize: 4 },
    env: { DATA_DIR: dataDir, DATABASE_URL: databaseUrl },
    cleanup: async () => {
      const pool = new Pool({ connectionString: baseUrl, max: 1 });
      try {
        await pool.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } finally {
        await pool.end();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
