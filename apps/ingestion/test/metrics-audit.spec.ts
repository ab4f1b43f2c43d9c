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
import { MetricsAudit } from '../src/metrics/metrics-audit';
import { MetricsAuditRepository } from '../src/metrics/metrics-audit.repository';
import { MetricsConsumer } from '../src/metrics/metrics-consumer';
import { METRICS_CONSUMER } from '../src/metrics/metrics-stream';
import { IngestionMetrics } from '../src/observability/ingestion-metrics';
import {
  countRows,
  ingestionConfig,
  openIngestionDatabase,
  publishMetrics,
  startTestIngestion,
  TestTokenService,
} from './ingestion-fixtures';

const AUDIT_DELAY_SECONDS = 1;

/**
 * What nats-server < 2.10.26 can do to a clustered consumer whose leader changes (nats-server#6469,
 * #6566): count messages delivered that no instance stored. Reproduced here on one server the only way
 * a client can: the messages are taken from the `ingestion` consumer and acked by someone who does not
 * store them. The audit must find them in AGENT_METRICS and store them exactly once.
 */
async function ackWithoutStoring(nc: NatsConnection, count: number): Promise<void> {
  const consumer = await nc.jetstream().consumers.get(Streams.metrics, METRICS_CONSUMER);
  let acked = 0;
  while (acked < count) {
    for await (const msg of await consumer.fetch({ max_messages: count - acked, expires: 2000 })) {
      await msg.ackAck();
      acked++;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testEngines())('metrics audit on %s', (engine) => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let tokens: TestTokenService;
  let database: TestDatabase;
  let reader: Database<IngestionDB>;
  let apps: INestMicroservice[];

  const start = async (delaySeconds = AUDIT_DELAY_SECONDS) => {
    const app = await startTestIngestion(
      ingestionConfig(server.url, database, {
        // Runs are driven by the test.
        METRICS_AUDIT_INTERVAL_SECONDS: '0',
        METRICS_AUDIT_DELAY_SECONDS: String(delaySeconds),
      }),
    );
    apps.push(app);
    return app;
  };
  const repairedBy = async (app: INestMicroservice) =>
    (await app.get(IngestionMetrics).auditRepaired.get()).values[0]?.value ?? 0;

  /** Batches 1..skipped of `agentId` acked on the consumer without a row; then `normal` more stored the usual way. */
  const skipThenFlow = async (app: INestMicroservice, agentId: string, skipped: number, normal: number) => {
    const consumer = app.get(MetricsConsumer);
    await consumer.stop();
    for (let seq = 1; seq <= skipped; seq++) await publishMetrics(nc, 'prod-1', agentId, seq);
    await ackWithoutStoring(nc, skipped);
    consumer.start();
    for (let seq = skipped + 1; seq <= skipped + normal; seq++)
      await publishMetrics(nc, 'prod-1', agentId, seq);
    await waitFor(
      `${normal} batches stored by the consumer`,
      async () => (await countRows(reader, 'metric_batches')) >= normal,
    );
    const info = await (await nc.jetstreamManager()).consumers.info(Streams.metrics, METRICS_CONSUMER);
    // The skipped batches are below the ack floor: the consumer will never deliver them again.
    expect(info.ack_floor.stream_seq).toBe(skipped + normal);
    await sleep(AUDIT_DELAY_SECONDS * 1000 + 200);
  };

  beforeEach(async () => {
    apps = [];
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
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

  it('stores batches the consumer counted delivered without a row, once, and nothing else', async () => {
    const app = await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    const audit = app.get(MetricsAudit);
    // The first run sets the position (nothing delivered yet).
    expect(await audit.run()).toMatchObject({ skipped: false, repaired: 0 });

    await skipThenFlow(app, 'agent-a', 5, 10);
    expect(await countRows(reader, 'metric_batches')).toBe(10);

    const first = await audit.run();
    expect(first).toMatchObject({ skipped: false, checked: 15, repaired: 5, position: 15 });
    expect(await countRows(reader, 'metric_batches')).toBe(15);
    expect(await countRows(reader, 'samples')).toBe(45);
    expect(await repairedBy(app)).toBe(5);

    // Checked once: the next run starts after them and finds nothing more.
    expect(await audit.run()).toMatchObject({ checked: 0, repaired: 0, position: 15 });
    expect(await countRows(reader, 'metric_batches')).toBe(15);
  });

  it('leaves messages newer than the delay, and content the consumer refused, alone', async () => {
    // A delay long enough that publishing and acking on a loaded machine stays well inside it.
    const delaySeconds = 5;
    const app = await start(delaySeconds);
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    const audit = app.get(MetricsAudit);
    await audit.run();
    const consumer = app.get(MetricsConsumer);
    await consumer.stop();
    await publishMetrics(nc, 'prod-1', 'agent-a', 1, { body: '{not json' });
    await publishMetrics(nc, 'prod-1', 'agent-a', 2);
    await ackWithoutStoring(nc, 2);
    // Too new: not judged yet.
    expect(await audit.run()).toMatchObject({ checked: 0, repaired: 0 });
    await sleep(delaySeconds * 1000 + 200);
    expect(await audit.run()).toMatchObject({ checked: 2, repaired: 1, position: 2 });
    expect(await countRows(reader, 'metric_batches')).toBe(1);
  });

  it('waits for the token service instead of skipping what it cannot judge', async () => {
    const app = await start();
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    tokens.issue('prod-1', 'agent-b');
    const audit = app.get(MetricsAudit);
    await audit.run();
    await skipThenFlow(app, 'agent-a', 1, 2);
    // agent-b's batch was never seen by this instance: judging it needs the token service.
    const consumer = app.get(MetricsConsumer);
    await consumer.stop();
    await publishMetrics(nc, 'prod-1', 'agent-b', 1);
    await ackWithoutStoring(nc, 1);
    await sleep(AUDIT_DELAY_SECONDS * 1000 + 200);
    tokens.stop();
    const interrupted = await audit.run();
    expect(interrupted.repaired).toBe(0);
    expect(await countRows(reader, 'metric_batches')).toBe(2);
    await tokens.start();
    expect(await audit.run()).toMatchObject({ repaired: 2, position: 4 });
    expect(await countRows(reader, 'metric_batches')).toBe(4);
  });

  it('lets one instance at a time audit: two instances store each missing batch once', async () => {
    const [a, b] = [await start(), await start()];
    reader = await openIngestionDatabase(database);
    tokens.issue('prod-1', 'agent-a');
    await a.get(MetricsAudit).run();
    const consumers = [a, b].map((app) => app.get(MetricsConsumer));
    await Promise.all(consumers.map((c) => c.stop()));
    for (let seq = 1; seq <= 40; seq++) await publishMetrics(nc, 'prod-1', 'agent-a', seq);
    await ackWithoutStoring(nc, 40);
    await sleep(AUDIT_DELAY_SECONDS * 1000 + 200);
    // While a third holder (an instance that died mid-run, say) has the lease, nobody audits.
    const leases = a.get(MetricsAuditRepository);
    expect(await leases.claim('another instance', Date.now(), 60_000)).toBe(true);
    expect(await a.get(MetricsAudit).run()).toMatchObject({ skipped: true, checked: 0 });
    expect(await b.get(MetricsAudit).run()).toMatchObject({ skipped: true, checked: 0 });
    await leases.release('another instance');

    const runs = await Promise.all([a.get(MetricsAudit).run(), b.get(MetricsAudit).run()]);
    // Each message checked once between them, whichever got the lease first.
    expect(runs.reduce((n, r) => n + r.checked, 0)).toBe(40);
    expect(runs.reduce((n, r) => n + r.repaired, 0)).toBe(40);
    expect((await repairedBy(a)) + (await repairedBy(b))).toBe(40);
    expect(await countRows(reader, 'metric_batches')).toBe(40);
  });
});
