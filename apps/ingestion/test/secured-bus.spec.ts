import { INestMicroservice } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { ManualClock } from '@app/clock';
import { Streams } from '@app/contracts';
import { createTestDatabase, NatsServerHandle, startNatsServer, TestDatabase, waitFor } from '@app/testing';
import { LivenessTracker } from '../src/liveness/liveness-tracker';
import { MetricsAudit } from '../src/metrics/metrics-audit';
import { MetricsConsumer } from '../src/metrics/metrics-consumer';
import { METRICS_CONSUMER } from '../src/metrics/metrics-stream';
import {
  ingestionConfig,
  openIngestionDatabase,
  publishMetrics,
  readDeadLetters,
  startTestIngestion,
  TestTokenService,
} from './ingestion-fixtures';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * Ingestion as `npm start` runs it: the `ingestion` user of an operator-mode server, with exactly the
 * permissions of libs/nats-auth. Each case is a path that needs a right of its own; a missing one
 * shows here as a feature that silently stops working, not as an error.
 */
describe('ingestion on the secured bus', () => {
  let server: NatsServerHandle;
  let database: TestDatabase;
  let tokens: TestTokenService;
  let gateway: NatsConnection;
  let operator: NatsConnection;
  let tokensConnection: NatsConnection | undefined;
  let app: INestMicroservice | undefined;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    // 1 GiB of JetStream: the default 8 GiB AGENT_METRICS does not fit, so start-up sizes it with its scratch stream.
    server = await startNatsServer({ secured: true, maxFileStoreBytes: GiB });
    const bus = server.bus!;
    database = await createTestDatabase('sqlite', 'ingestion');
    tokensConnection = await bus.connect('tokens');
    tokens = await new TestTokenService(tokensConnection).start();
    // Agents' messages come through the gateway's rights (it republishes the HTTP intake's).
    gateway = await bus.connect('gateway');
    // Plays the instances that die with a message in hand, and reads the dead letters.
    operator = await bus.connectWith('test-operator', ['$JS.API.>', '$JS.ACK.>'], ['_INBOX_test-operator.>']);
    app = await startTestIngestion(
      ingestionConfig(server.url, database, {
        NATS_CREDS: bus.credsFile('ingestion'),
        NATS_CA_FILE: bus.caFile,
        METRICS_MAX_DELIVERIES: '2',
        METRICS_AUDIT_INTERVAL_SECONDS: '0',
        METRICS_AUDIT_DELAY_SECONDS: '1',
      }),
      clock,
    );
  });

  afterAll(async () => {
    await app?.close();
    tokens?.stop();
    await tokensConnection?.close();
    await gateway?.close();
    await operator?.close();
    await database?.cleanup();
    await server?.dispose();
  });

  it('sized AGENT_METRICS from what JetStream can reserve, and left no scratch stream', async () => {
    const jsm = await operator.jetstreamManager();
    const info = await jsm.streams.info(Streams.metrics);
    // EVENTS (512 MiB) and DEAD_LETTER (128 MiB) are reserved first; AGENT_METRICS takes half of the rest.
    expect(info.config.max_bytes).toBeGreaterThan(160 * MiB);
    expect(info.config.max_bytes).toBeLessThanOrEqual((GiB - 640 * MiB) / 2);
    await expect(jsm.streams.info(Streams.metricsSizeProbe)).rejects.toThrow(/stream not found/);
  });

  it('hears its own heartbeat probe', async () => {
    const liveness = app!.get(LivenessTracker);
    // Ten seconds of silence as far as it knows; a probe heard since proves the subscription delivers.
    clock.advance(10_000);
    expect(liveness.hearing).toBe(false);
    await waitFor('a probe heard', async () => liveness.hearing, 3000);
  });

  it('parks what JetStream gave up delivering', async () => {
    await app!.get(MetricsConsumer).stop();
    const jsm = await operator.jetstreamManager();
    // Its last pull may still be open on the server and would swallow the message: a fresh consumer has none.
    const consumer = await jsm.consumers.info(Streams.metrics, METRICS_CONSUMER);
    await jsm.consumers.delete(Streams.metrics, METRICS_CONSUMER);
    await jsm.consumers.add(Streams.metrics, consumer.config);
    tokens.issue('prod-1', 'agent-a');
    await publishMetrics(gateway, 'prod-1', 'agent-a', 1);
    const pull = await operator.jetstream().consumers.get(Streams.metrics, METRICS_CONSUMER);
    for (let delivery = 1; delivery <= 2; delivery++) {
      const msg = await pull.next({ expires: 5000 });
      expect(msg?.info.deliveryCount).toBe(delivery);
      msg!.nak();
    }
    expect(await pull.next({ expires: 2000 })).toBeNull();
    const parked = await waitFor('the exhausted message parked', async () => {
      const all = await readDeadLetters(operator);
      return all.length === 1 && all;
    });
    expect(parked[0]).toMatchObject({
      reason: 'max_deliveries',
      originalSubject: 'agents.prod-1.agent-a.metrics',
    });
  });

  it('audits AGENT_METRICS with its own rights: reads it (headers only) and stores a batch the consumer skipped', async () => {
    const audit = app!.get(MetricsAudit);
    await audit.run();
    await app!.get(MetricsConsumer).stop();
    tokens.issue('prod-1', 'agent-b');
    await publishMetrics(gateway, 'prod-1', 'agent-b', 1);
    const pull = await operator.jetstream().consumers.get(Streams.metrics, METRICS_CONSUMER);
    await (await pull.next({ expires: 5000 }))!.ackAck();
    clock.advance(5000);
    expect((await audit.run()).repaired).toBeGreaterThanOrEqual(1);
    const reader = await openIngestionDatabase(database);
    try {
      const row = await reader.db
        .selectFrom('metric_batches')
        .selectAll()
        .where('agent_id', '=', 'agent-b')
        .executeTakeFirst();
      expect(row && Number(row.seq)).toBe(1);
    } finally {
      await reader.close();
    }
  });
});
