import { INestMicroservice } from '@nestjs/common';
import { sql } from 'kysely';
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
import { MetricsConsumer } from '../src/metrics/metrics-consumer';
import { MetricsWriter } from '../src/metrics/metrics-writer';
import { ensureMetricsStream, METRICS_CONSUMER } from '../src/metrics/metrics-stream';
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

/**
 * An operator's trigger that makes the database refuse samples of one metric name (their series row):
 * a fault that passes every wire check (what the database refuses for reasons of its own).
 */
async function refuseSeriesNamed(database: Database<IngestionDB>, name: string): Promise<void> {
  if (database.engine === 'postgres') {
    await sql
      .raw(
        `create function refuse_series() returns trigger language plpgsql as $$ begin ` +
          `if new.name = '${name}' then raise exception 'series refused by the test'; end if; return new; end $$`,
      )
      .execute(database.db);
    await sql`create trigger refuse_series before insert on metric_series for each row execute function refuse_series()`.execute(
      database.db,
    );
  } else {
    await sql
      .raw(
        `create trigger refuse_series before insert on metric_series when new.name = '${name}' ` +
          `begin select raise(abort, 'series refused by the test'); end`,
      )
      .execute(database.db);
  }
}

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

  /** Every message delivered and acked. */
  const nothingPending = async () => {
    const jsm = await nc.jetstreamManager();
    await waitFor('no pending acks', async () => {
      const info = await jsm.consumers.info(Streams.metrics, METRICS_CONSUMER);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
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
    await nothingPending();
    expect(await countRows(reader, 'metric_batches')).toBe(20);
  });

  it('has two batches in the database at once (SQLite: on its writer thread), and stores each once', async () => {
    const app = await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    // Slow commits, so batches queue up behind them: how many writes overlap is then the consumer's choice.
    const writer = app.get(MetricsWriter);
    const write = writer.writeBatch.bind(writer);
    let writing = 0;
    let most = 0;
    jest.spyOn(writer, 'writeBatch').mockImplementation(async (batches) => {
      most = Math.max(most, ++writing);
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return await write(batches);
      } finally {
        writing--;
      }
    });
    for (let seq = 1; seq <= 40; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    await waitFor('120 samples', async () => (await countRows(reader, 'samples')) === 120);
    await nothingPending();
    expect(await countRows(reader, 'metric_batches')).toBe(40);
    expect(most).toBe(2);
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
      body: {
        agentId: 'agent-a',
        seq: 3,
        collectedAt: Date.now(),
        samples: [{ name: 'cpu', value: 'high' }],
      },
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

  it('parks values that SQLite would store as floats and PostgreSQL refuses, and stores the rest', async () => {
    await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    const body = (seq: number) => metricsBody('agent-a', seq);
    await publishMetrics(nc, 'prod-1', 'agent-a', 1, {
      body: { ...body(1), samples: [{ name: 'cpu', value: 1, ts: 1e300 }] },
    });
    await publishMetrics(nc, 'prod-1', 'agent-a', 2, {
      body: { ...body(2), collectedAt: Date.now() + 0.5 },
    });
    await publishMetrics(nc, 'prod-1', 'agent-a', 3, { body: { ...body(3), seq: 2 ** 63 } });
    await publishMetrics(nc, 'prod-1', 'agent-a', 4);

    const parked = await waitFor('three parked messages', async () => {
      const all = await readDeadLetters(nc);
      return all.length === 3 && all;
    });
    expect(parked.map((p) => p.reason)).toEqual(['invalid_payload', 'invalid_payload', 'invalid_payload']);
    expect(parked.map((p) => p.detail.split(' ')[0]).sort()).toEqual(['collectedAt', 'samples[0].ts', 'seq']);
    await waitFor('the good batch stored', async () => (await countRows(reader, 'metric_batches')) === 1);
    expect(await countRows(reader, 'samples')).toBe(3);
  });

  it('parks batches the database refuses after three deliveries, however many arrive together, while good ones flow', async () => {
    await start();
    reader = await openIngestionDatabase(database);
    await refuseSeriesNamed(reader, 'cpu');
    tokens.issue('prod-1', 'agent-a');
    const poison = (seq: number) => ({
      ...metricsBody('agent-a', seq),
      samples: [{ name: 'cpu', value: 666 }],
    });
    await publishMetrics(nc, 'prod-1', 'agent-a', 1, { body: poison(1) });
    await publishMetrics(nc, 'prod-1', 'agent-a', 2, { body: poison(2) });
    await publishMetrics(nc, 'prod-1', 'agent-a', 3);

    const parked = await waitFor(
      'both refused batches parked',
      async () => {
        const all = await readDeadLetters(nc);
        return all.length === 2 && all;
      },
      20_000,
    );
    expect(parked.map((p) => p.reason)).toEqual(['storage_rejected', 'storage_rejected']);
    expect(await countRows(reader, 'metric_batches')).toBe(1);
    const info = await (await nc.jetstreamManager()).consumers.info(Streams.metrics, METRICS_CONSUMER);
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });

  it('holds metrics while the database takes no writes, without parking or redelivering them, and stores them after', async () => {
    await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    await publishMetrics(nc, 'prod-1', 'agent-a', 1);
    await waitFor('first batch stored', async () => (await countRows(reader, 'metric_batches')) === 1);

    // Storage gone from under the service (as a full disk refuses every write) while `select 1` still answers.
    await sql`alter table metric_chunks rename to metric_chunks_away`.execute(reader.db);
    for (let seq = 2; seq <= 30; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    const metrics = apps[0].get(IngestionMetrics);
    await waitFor('a refused commit', async () => (await metrics.total(metrics.storageFailures)) > 0);
    // Longer than the 10 s ack wait: a message left unacknowledged that long would be redelivered.
    await new Promise((r) => setTimeout(r, 12_000));
    await sql`alter table metric_chunks_away rename to metric_chunks`.execute(reader.db);

    await waitFor('all 30 batches', async () => (await countRows(reader, 'metric_batches')) === 30, 40_000);
    expect(await countRows(reader, 'samples')).toBe(90);
    expect(await readDeadLetters(nc)).toEqual([]);
    const info = await (await nc.jetstreamManager()).consumers.info(Streams.metrics, METRICS_CONSUMER);
    expect(info.num_redelivered).toBe(0);
  });

  it('parks a message JetStream stopped delivering after METRICS_MAX_DELIVERIES deliveries without an ack', async () => {
    const config = ingestionConfig(server.url, database, { METRICS_MAX_DELIVERIES: '2' });
    const app = await startTestIngestion(config);
    apps.push(app);
    // Instances that take the message and never acknowledge it (they die with it in hand) are
    // played by this test's fetches; the running instance only listens for JetStream's advisory.
    await app.get(MetricsConsumer).stop();
    // Its last pull may still be open on the server and would swallow the message: a fresh consumer has none.
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.delete(Streams.metrics, METRICS_CONSUMER);
    await ensureMetricsStream(jsm, config);
    tokens.issue('prod-1', 'agent-a');
    await publishMetrics(nc, 'prod-1', 'agent-a', 1);
    const consumer = await nc.jetstream().consumers.get(Streams.metrics, METRICS_CONSUMER);
    for (let delivery = 1; delivery <= 2; delivery++) {
      const msg = await consumer.next({ expires: 5000 });
      expect(msg?.info.deliveryCount).toBe(delivery);
      msg!.nak();
    }
    // The next pull finds the message spent: JetStream skips it and announces it.
    expect(await consumer.next({ expires: 2000 })).toBeNull();
    const parked = await waitFor('the exhausted message parked', async () => {
      const all = await readDeadLetters(nc);
      return all.length === 1 && all;
    });
    expect(parked[0]).toMatchObject({
      reason: 'max_deliveries',
      originalSubject: 'agents.prod-1.agent-a.metrics',
    });
  });

  it('stops at once when told to stop while it is still opening its pull', async () => {
    const consumer = (await start()).get(MetricsConsumer);
    await consumer.stop();
    consumer.start();
    const startedAt = Date.now();
    await consumer.stop();
    expect(Date.now() - startedAt).toBeLessThan(2000);
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
