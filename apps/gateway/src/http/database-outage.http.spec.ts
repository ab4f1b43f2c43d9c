import { INestApplication } from '@nestjs/common';
import { Pool } from 'pg';
import request from 'supertest';
import { ManualClock } from '@app/clock';
import { loadConfig } from '@app/config';
import { ErrorCodes, formatToken } from '@app/contracts';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
} from '@app/testing';
// The real token service, in-process: its database is the one that goes away.
import { startTokensHarness, TokensHarness } from '../../../tokens/test/tokens.harness';
import { createGatewayApp } from '../app';
import { GatewayConfig } from '../config';

const BOOTSTRAP_API_KEY = formatToken('api_key', (n) => Buffer.alloc(n, 7));
const postgresOnly = testEngines().includes('postgres') ? describe : describe.skip;

postgresOnly('the API while PostgreSQL is down', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TokensHarness;
  let gateway: INestApplication;
  const admin = new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 1 });

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase('postgres', 'tokens');
    tokens = await startTokensHarness({
      natsUrl: nats.url,
      env: { ...database.env, BOOTSTRAP_API_KEY },
      clock: new ManualClock(Date.now()),
    });
    gateway = await createGatewayApp(
      loadConfig(GatewayConfig, {
        NATS_URL: nats.url,
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATA_DIR: database.env.DATA_DIR,
      }),
    );
    await gateway.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await gateway?.close();
    await tokens?.close();
    await database?.cleanup();
    await nats?.dispose();
    await admin.end();
  });

  it('answers 503 "database unavailable" while the token service cannot reach its database, and serves again after', async () => {
    const name = new URL(database.options.databaseUrl!).pathname.slice(1);
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    try {
      // Not in the gateway's cache yet: the token service must ask its database.
      const response = await request(gateway.getHttpServer())
        .get('/api/v1/environments')
        .set('Authorization', `Bearer ${BOOTSTRAP_API_KEY}`);
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        statusCode: 503,
        code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
        message: 'database unavailable',
      });
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    const unknownKey = formatToken('api_key', (n) => Buffer.alloc(n, 3));
    const after = await request(gateway.getHttpServer())
      .get('/api/v1/environments')
      .set('Authorization', `Bearer ${unknownKey}`);
    expect(after.status).toBe(401);
  });
});
