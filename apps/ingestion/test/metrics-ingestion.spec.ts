import { INestMicroservice } from '@nestjs/common';
import { connect, NatsConnection } from 'nats';
import { Streams } from '@app/contracts';
import { Database } from '@app/persistence';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
import { IngestionDB } from '../src/database';
import { IngestionMetrics } from '../src/observability/ingestion-metrics';
import { METRICS_CONSUMER } from '../src/metrics/metrics-stream';
import {
  countRows,
  ingestionConfig,
  metricsBody,
  openIngestionDatabase,
  publishMetrics,
  readDeadLetters,
  startTestIngestion,
  TestTokenService,
} from './ingestion-fixtures';

describe.each(testEngines())('metrics ingestion on %s', (engine) => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tokens: TestTokenService;
  let database: TestDatabase;
  let reader: Database<IngestionDB>;
  let apps: INestMicroservice[];

  const start = async () => {
    const app = await startTestIngestion(ingestionConfig(server.url, database));
    apps.push(app);
    return app;
  };

  beforeEach(async () => {
    apps = [];
    server = await startNatsServer();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    tokens = await new TestTokenService(nc).start();
    database = await createTestDatabase(engine, 'ingestion');
  });

  afterEach(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await reader?.close();
    tokens.stop();
    await nc.close();
    await server.dispose();
    await database.cleanup();
  });

  it('stores every sample of every batch once and leaves nothing unacknowledged', async () => {
    await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    for (let seq = 1; seq <= 20; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    await waitFor('60 samples', async () => (await countRows(reader, 'samples')) === 60);
    const jsm = await nc.jetstreamManager();
    await waitFor('no pending acks', async () => {
      const info = await jsm.consumers.info(Streams.metrics, METRICS_CONSUMER);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    expect(await countRows(reader, 'metric_batches')).toBe(20);
  });

  it('stores a batch republished under the same Nats-Msg-Id, or resent with the same seq, once', async () => {
    await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    await publishMetrics(nc, 'prod-1', 'agent-a', 1);
    await publishMetrics(nc, 'prod-1', 'agent-a', 1);
    // Outside the duplicate window JetStream would keep both: only the (agent, seq) key catches it.
    await publishMetrics(nc, 'prod-1', 'agent-a', 1, { msgID: 'resend-after-window' });
    await publishMetrics(nc, 'prod-1', 'agent-a', 2);
    const jsm = await nc.jetstreamManager();
    await waitFor('all delivered and acked', async () => {
      const info = await jsm.consumers.info(Streams.metrics, METRICS_CONSUMER);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    expect((await jsm.streams.info(Streams.metrics)).state.messages).toBe(3);
    expect(await countRows(reader, 'metric_batches')).toBe(2);
    expect(await countRows(reader, 'samples')).toBe(6);
  });

  it('parks a poison message with its reason while good ones flow', async () => {
    await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    tokens.issue('staging', 'agent-b');
    await publishMetrics(nc, 'prod-1', 'agent-a', 1);
    await publishMetrics(nc, 'prod-1', 'agent-a', 2, { body: '{not json' });
    await publishMetrics(nc, 'prod-1', 'agent-a', 3, {
      body: { agentId: 'agent-a', seq: 3, collectedAt: 1, samples: [{ name: 'cpu', value: 'high' }] },
    });
    // The body speaks for another agent than the subject.
    await publishMetrics(nc, 'prod-1', 'agent-a', 4, { body: metricsBody('agent-b', 4) });
    // agent-b is enrolled in staging, not prod-1.
    await publishMetrics(nc, 'prod-1', 'agent-b', 5);
    await publishMetrics(nc, 'prod-1', 'agent-a', 7);

    const parked = await waitFor('four parked messages', async () => {
      const all = await readDeadLetters(nc);
      return all.length === 4 && all;
    });
    expect(parked.map((p) => p.reason).sort()).toEqual(
      ['invalid_payload', 'invalid_payload', 'mismatch', 'mismatch'].sort(),
    );
    expect(parked.find((p) => p.detail.includes('samples[0].value'))).toBeDefined();
    await waitFor('good batches stored', async () => (await countRows(reader, 'metric_batches')) === 2);
    expect(await countRows(reader, 'samples')).toBe(6);
  });

  it('parks metrics of an agent the token service never enrolled', async () => {
    await start();
    await publishMetrics(nc, 'prod-1', 'agent-x', 1);
    const parked = await waitFor('parked', async () => {
      const all = await readDeadLetters(nc);
      return all.length === 1 && all;
    });
    expect(parked[0].reason).toBe('unknown');
  });

  it('keeps metrics waiting, not parked, while the token service does not answer', async () => {
    tokens.stop();
    await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    await publishMetrics(nc, 'prod-1', 'agent-a', 1);
    const metrics = apps[0].get(IngestionMetrics);
    await waitFor(
      'a verification that found no token service',
      async () => (await metrics.rejectedByReason()).unverifiable > 0,
    );
    await tokens.start();
    await waitFor(
      'stored once the token service answers',
      async () => (await countRows(reader, 'samples')) === 3,
    );
    expect(await readDeadLetters(nc)).toEqual([]);
  });

  it("rejects a revoked agent's messages within a second of the revocation", async () => {
    await start();
    reader = await openIngestionDatabase(database);
    const agentId = tokens.issue('prod-1', 'agent-a');
    await publishMetrics(nc, 'prod-1', 'agent-a', 1);
    await waitFor('first batch stored', async () => (await countRows(reader, 'metric_batches')) === 1);

    await tokens.revoke(agentId);
    const revokedAt = Date.now();
    await publishMetrics(nc, 'prod-1', 'agent-a', 2);
    const parked = await waitFor('revoked batch parked', async () => {
      const all = await readDeadLetters(nc);
      return all.length === 1 && all;
    });
    expect(parked[0].reason).toBe('revoked');
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(await countRows(reader, 'metric_batches')).toBe(1);
  });

  it('persists batches exactly once across an ingestion restart mid-stream', async () => {
    const first = await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    const total = 3000;
    const publishing = (async () => {
      for (let seq = 1; seq <= total; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    })();
    await waitFor('ingestion under way', async () => (await countRows(reader, 'metric_batches')) > 100);
    await first.close();
    const storedAtStop = await countRows(reader, 'metric_batches');
    await start();
    await publishing;
    await waitFor(
      `${total} batches`,
      async () => (await countRows(reader, 'metric_batches')) === total,
      30_000,
    );
    expect(storedAtStop).toBeLessThan(total);
    expect(await countRows(reader, 'samples')).toBe(total * 3);
  });

  it('persists batches exactly once across a NATS restart', async () => {
    await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    for (let seq = 1; seq <= 200; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    await server.restart();
    // The agent resends what it is unsure of: the same seq, deduplicated by msgID or by the batch key.
    for (let seq = 150; seq <= 400; seq++) {
      await waitFor(`publish ${seq}`, async () => {
        await publishMetrics(nc, 'prod-1', 'agent-a', seq);
        return true;
      });
    }
    await waitFor('400 batches', async () => (await countRows(reader, 'metric_batches')) === 400, 30_000);
    expect(await countRows(reader, 'samples')).toBe(1200);
  });
});
