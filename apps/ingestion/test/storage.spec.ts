import { INestMicroservice } from '@nestjs/common';
import { connect, NatsConnection } from 'nats';
import { Pool } from 'pg';
import { DomainError, ErrorCodes, MetricSample, MetricsQueryResult, Subjects } from '@app/contracts';
import { loadConfig } from '@app/config';
import { RpcClient } from '@app/messaging';
import { Database, migrateToLatest, openDatabase } from '@app/persistence';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
import { ManualClock } from '@app/clock';
import { IngestionConfig } from '../src/config';
import { IngestionDB } from '../src/database';
import { decodeChunk } from '../src/metrics/chunk-codec';
import { MetricsRepository } from '../src/metrics/metrics.repository';
import { canonicalTags } from '../src/metrics/series-ids';
import { migrations } from '../src/migrations';
import { IngestionMetrics } from '../src/observability/ingestion-metrics';
import { RetentionJob } from '../src/retention/retention-job';
import {
  countRows,
  ingestionConfig,
  openIngestionDatabase,
  publishMetrics,
  startTestIngestion,
  TestTokenService,
} from './ingestion-fixtures';

const sample = (ts: number, value = 1) => ({ name: 'cpu.usage', ts, value });

describe.each(testEngines())('metrics storage on %s', (engine) => {
  let fixture: TestDatabase;
  let database: Database<IngestionDB>;
  let repository: MetricsRepository;

  beforeEach(async () => {
    fixture = await createTestDatabase(engine, 'ingestion');
    database = await openDatabase<IngestionDB>(fixture.options);
    await migrateToLatest(database.db, migrations);
    repository = new MetricsRepository(database);
  });

  afterEach(async () => {
    await database.close();
    await fixture.cleanup();
  });

  it('stores a batch redelivered after a crash between commit and ack once', async () => {
    const batch = { agentId: 'agent-a', seq: 1, collectedAt: 1, samples: [sample(1), sample(2)] };
    const first = await repository.storeBatches([batch], 1000);
    // The process died before acking: JetStream delivers the same batch again, alongside a new one.
    const again = await repository.storeBatches([batch, { ...batch, seq: 2 }], 2000);
    expect([...first.stored]).toEqual(['agent-a:1']);
    expect([...again.duplicates]).toEqual(['agent-a:1']);
    expect([...again.stored]).toEqual(['agent-a:2']);
    expect(await countRows(database, 'samples')).toBe(4);
  });

  it('files every sample under its own series as an agent changes the series it sends, and their order', async () => {
    const cpu = (core: string, value: number) => ({ name: 'cpu.usage', value, tags: { core } });
    const odd = (first: number): MetricSample[] => [
      { name: 'cpu.usage', value: first, tags: { core: '0"', x: 'a\\b' } },
      { name: 'cpu.usage', value: first + 1, tags: { x: '1', core: '0' } },
      { name: 'cpu.usage', value: first + 2, tags: { core: '0', x: '1' } },
      { name: 'mem.used', value: first + 3, tags: {} },
    ];
    const sent: MetricSample[][] = [
      [cpu('0', 1), cpu('1', 2)],
      [cpu('0', 3), cpu('1', 4)],
      // The same names and count: other order, then other tag values.
      [cpu('1', 5), cpu('0', 6)],
      [cpu('2', 7), cpu('3', 8)],
      // A series more, twice; then tags needing JSON escapes, keys out of order, none, twice.
      [cpu('1', 9), cpu('0', 10), { name: 'mem.used', value: 11 }],
      [cpu('1', 12), cpu('0', 13), { name: 'mem.used', value: 14 }],
      odd(15),
      odd(19),
    ];
    for (const [seq, samples] of sent.entries())
      await repository.storeBatches([{ agentId: 'agent-a', seq, collectedAt: 1000 + seq, samples }], 5000);

    const series = new Map<number, string>();
    for (const row of await database.db.selectFrom('metric_series').selectAll().execute())
      series.set(Number(row.series_id), `${row.name}${row.tags}`);
    const stored: string[] = [];
    for (const chunk of await database.db.selectFrom('metric_chunks').selectAll().execute())
      decodeChunk(chunk.data, Number(chunk.hour_start), (id, _ts, value) =>
        stored.push(`${series.get(id)}=${value}`),
      );
    const expected = sent.flatMap((samples) =>
      samples.map((s) => `${s.name}${canonicalTags(s.tags)}=${s.value}`),
    );
    expect(stored.sort()).toEqual(expected.sort());
    // cpu cores 0-3, the escaped one, {core 0, x 1} in either order; mem.used without tags or with {}.
    expect(series.size).toBe(7);
  });

  it('writes a batch larger than one statement can bind, in chunks', async () => {
    const samples = Array.from({ length: 12_000 }, (_, i) => sample(i));
    const result = await repository.storeBatches(
      [{ agentId: 'agent-a', seq: 1, collectedAt: 0, samples }],
      1000,
    );
    expect(result.samples).toBe(12_000);
    expect(await countRows(database, 'samples')).toBe(12_000);
  });

  it('the retention job deletes samples older than the retention in batches and keeps the rest', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 10));
    const day = 86_400_000;
    const old = Array.from({ length: 12_500 }, (_, i) => sample(clock.now() - 8 * day + i));
    const recent = Array.from({ length: 10 }, (_, i) => sample(clock.now() - day + i));
    await repository.storeBatches(
      [
        { agentId: 'agent-a', seq: 1, collectedAt: old[0].ts, samples: old },
        { agentId: 'agent-a', seq: 2, collectedAt: recent[0].ts, samples: recent },
      ],
      clock.now() - 8 * day,
    );
    const config = loadConfig(IngestionConfig, { METRICS_RETENTION_DAYS: '7' });
    const deleted = await new RetentionJob(repository, clock, config).run();
    expect(deleted).toBe(12_500);
    expect(await countRows(database, 'samples')).toBe(10);
    expect(await countRows(database, 'metric_batches')).toBe(0);
  });
});

describe.each(testEngines())('metrics.query on %s', (engine) => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tokens: TestTokenService;
  let database: TestDatabase;
  let app: INestMicroservice;
  /** An hour ago, on a minute boundary: inside the window of timestamps ingestion accepts. */
  const t0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    tokens = await new TestTokenService(nc).start();
    database = await createTestDatabase(engine, 'ingestion');
    app = await startTestIngestion(ingestionConfig(server.url, database));
    tokens.issue('prod-1', 'agent-a', 'org-1');
    // Two samples per 60 s bucket for core 0 and core 1, three buckets.
    for (let seq = 0; seq < 6; seq++) {
      await publishMetrics(nc, 'prod-1', 'agent-a', seq, {
        body: {
          agentId: 'agent-a',
          seq,
          collectedAt: t0 + seq * 30_000,
          samples: [
            { name: 'cpu.usage', value: seq, unit: 'percent', tags: { core: '0', host: 'h' } },
            { name: 'cpu.usage', value: 10 * seq, unit: 'percent', tags: { host: 'h', core: '1' } },
          ],
        },
      });
    }
    const reader = await openIngestionDatabase(database);
    await waitFor('12 samples', async () => (await countRows(reader, 'samples')) === 12);
    await reader.close();
  });

  afterAll(async () => {
    await app.close();
    tokens.stop();
    await nc.close();
    await server.dispose();
    await database.cleanup();
  });

  const query = (organizationId: string, extra: Record<string, unknown> = {}) =>
    new RpcClient(nc).request<MetricsQueryResult>(Subjects.metricsQuery, {
      organizationId,
      agentId: 'agent-a',
      name: 'cpu.usage',
      from: t0,
      to: t0 + 180_000,
      stepSeconds: 60,
      ...extra,
    });

  it('returns avg, min, max, last and count per bucket for each tag set', async () => {
    const result = await query('org-1');
    expect(result.series).toHaveLength(2);
    const core0 = result.series.find((s) => s.tags.core === '0')!;
    expect(core0.unit).toBe('percent');
    expect(core0.tags).toEqual({ core: '0', host: 'h' });
    expect(core0.points).toEqual([
      { ts: t0, avg: 0.5, min: 0, max: 1, last: 1, count: 2 },
      expect.objectContaining({ count: 2 }),
      expect.objectContaining({ count: 2 }),
    ]);
  });

  it('filters series by a tag', async () => {
    const result = await query('org-1', { tag: 'core=1' });
    expect(result.series.map((s) => s.tags.core)).toEqual(['1']);
    expect(result.series[0].points[0]).toMatchObject({ min: 0, max: 10, last: 10 });
  });

  it("answers NOT_FOUND for another organisation's agent", async () => {
    await expect(query('org-2')).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
  });

  it('refuses a step that would produce too many buckets', async () => {
    const error = await query('org-1', { stepSeconds: 1, to: t0 + 86_400_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe(ErrorCodes.VALIDATION_FAILED);
  });

  it("says when the metric's newest sample is older than the agent's offline threshold, instead of a silent empty answer", async () => {
    // Nothing in the last minute: an empty 200 would look like an idle host, not missing data.
    const recent = await query('org-1', { from: Date.now() - 60_000, to: Date.now() });
    expect(recent).toMatchObject({ series: [], stale: true, newestSampleAt: t0 + 150_000 });

    await publishMetrics(nc, 'prod-1', 'agent-a', 6, {
      body: {
        agentId: 'agent-a',
        seq: 6,
        collectedAt: Date.now(),
        samples: [{ name: 'cpu.usage', value: 1 }],
      },
    });
    const fresh = await waitFor('the fresh sample stored', async () => {
      const result = await query('org-1');
      return result.newestSampleAt! > t0 + 150_000 && result;
    });
    expect(fresh.stale).toBe(false);
  });
});

const postgresOnly = testEngines().includes('postgres') ? describe : describe.skip;

postgresOnly('metrics ingestion during a PostgreSQL outage', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tokens: TestTokenService;
  let database: TestDatabase;
  let app: INestMicroservice;
  const admin = new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 1 });

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    tokens = await new TestTokenService(nc).start();
    database = await createTestDatabase('postgres', 'ingestion');
  });

  afterAll(async () => {
    await app?.close();
    tokens.stop();
    await nc.close();
    await server.dispose();
    await database.cleanup();
    await admin.end();
  });

  it('holds metrics while the database refuses connections, answers queries with "database unavailable", and resumes without loss', async () => {
    app = await startTestIngestion(ingestionConfig(server.url, database));
    const reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    for (let seq = 1; seq <= 50; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    await waitFor('first 50 batches', async () => (await countRows(reader, 'metric_batches')) === 50);
    await reader.close();

    // A real outage: the database stops accepting connections and drops the ones it has.
    const dbName = new URL(database.options.databaseUrl!).pathname.slice(1);
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [dbName]);
    await expect(
      new RpcClient(nc).request(Subjects.metricsQuery, {
        organizationId: 'org-1',
        agentId: 'agent-a',
        name: 'cpu.usage',
        from: 0,
        to: 60_000,
        stepSeconds: 60,
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE, message: 'database unavailable' });
    for (let seq = 51; seq <= 150; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    const metrics = app.get(IngestionMetrics);
    await waitFor('a failed commit', async () => (await metrics.total(metrics.storageFailures)) > 0);
    await new Promise((r) => setTimeout(r, 1000));
    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);

    const after = await openIngestionDatabase(database);
    try {
      await waitFor(
        'all 150 batches',
        async () => (await countRows(after, 'metric_batches')) === 150,
        30_000,
      );
      expect(await countRows(after, 'samples')).toBe(450);
    } finally {
      await after.close();
    }
  });
});
