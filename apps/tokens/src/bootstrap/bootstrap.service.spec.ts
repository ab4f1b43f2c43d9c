import { connect, NatsConnection } from 'nats';
import { ConfigError, loadConfig } from '@app/config';
import { formatToken, Organization, Subjects, VerifiedToken } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { migrateToLatest, openDatabase } from '@app/persistence';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
} from '@app/testing';
import { TokensConfig } from '../config';
import { migrations } from '../migrations';
import { startTokensHarness, TokensHarness } from '../../test/tokens.harness';

const KEY_LINE = /^Bootstrap API key \(shown once\): (rca_ak_[0-9A-Za-z]{28})$/;

describe.each(testEngines())('bootstrap on %s', (engine) => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let rpc: RpcClient;
  let database: TestDatabase;
  const running: TokensHarness[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    rpc = new RpcClient(nc, 5000);
  });
  beforeEach(async () => {
    database = await createTestDatabase(engine, 'tokens');
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((t) => t.close()));
    await database.cleanup();
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  const start = async (env: Record<string, string> = {}) => {
    const harness = await startTokensHarness({ natsUrl: nats.url, env: { ...database.env, ...env } });
    running.push(harness);
    return harness;
  };
  const organizations = () => rpc.request<Organization[]>(Subjects.tokens.listOrganizations, {});

  it('creates the default organisation once and prints its generated key once', async () => {
    const first = await start();
    expect(first.output).toHaveLength(1);
    const key = KEY_LINE.exec(first.output[0])?.[1];
    expect(key).toBeDefined();
    const [organization] = await organizations();
    expect(organization.name).toBe('default');
    await expect(
      rpc.request<VerifiedToken>(Subjects.tokens.verify, { token: key, expectedKind: 'api_key' }),
    ).resolves.toMatchObject({ organizationId: organization.id, kind: 'api_key' });

    await running.pop()?.close();
    const second = await start();
    expect(second.output).toEqual([]);
    expect((await organizations()).map((o) => o.name)).toEqual(['default']);
  });

  it('uses BOOTSTRAP_API_KEY as the first key and never prints it', async () => {
    const given = formatToken('api_key', (n) => Buffer.alloc(n, 42));
    const harness = await start({ BOOTSTRAP_API_KEY: given });
    expect(harness.output).toEqual([]);
    const [organization] = await organizations();
    await expect(rpc.request<VerifiedToken>(Subjects.tokens.verify, { token: given })).resolves.toMatchObject(
      {
        organizationId: organization.id,
        kind: 'api_key',
      },
    );
  });

  it('creates one default organisation when two instances start on an empty database at once', async () => {
    if (engine === 'sqlite') {
      // Kysely takes no migration lock on SQLite (it assumes one process per file), so the
      // schema is applied first and the race under test is the bootstrap's alone.
      const opened = await openDatabase(database.options);
      await migrateToLatest(opened.db, migrations);
      await opened.close();
    }
    const [a, b] = await Promise.all([start(), start()]);
    expect((await organizations()).map((o) => o.name)).toEqual(['default']);
    expect([...a.output, ...b.output]).toHaveLength(1);
  });
});

describe('TokensConfig', () => {
  it('stops on a BOOTSTRAP_API_KEY that is not a well-formed API key, naming the variable', () => {
    const enrollmentToken = formatToken('enrollment', (n) => Buffer.alloc(n, 1));
    for (const value of ['rca_ak_short', enrollmentToken]) {
      expect(() => loadConfig(TokensConfig, { BOOTSTRAP_API_KEY: value })).toThrow(ConfigError);
      expect(() => loadConfig(TokensConfig, { BOOTSTRAP_API_KEY: value })).toThrow(/BOOTSTRAP_API_KEY/);
    }
  });

  it('reads the rotation grace period in seconds, defaulting to one day', () => {
    expect(loadConfig(TokensConfig, {}).TOKEN_ROTATION_GRACE_SECONDS).toBe(86400);
    expect(
      loadConfig(TokensConfig, { TOKEN_ROTATION_GRACE_SECONDS: '60' }).TOKEN_ROTATION_GRACE_SECONDS,
    ).toBe(60);
    expect(() => loadConfig(TokensConfig, { TOKEN_ROTATION_GRACE_SECONDS: '-1' })).toThrow(
      /TOKEN_ROTATION_GRACE_SECONDS/,
    );
  });
});
