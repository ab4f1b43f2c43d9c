import { INestMicroservice } from '@nestjs/common';
import { connect, NatsConnection } from 'nats';
import { Database } from '@app/persistence';
import {
  createTestDatabase,
  NatsServerHandle,
  PrometheusServer,
  requireTool,
  startNatsServer,
  TestDatabase,
  waitFor,
} from '@app/testing';
import { IngestionDB } from '../src/database';
import {
  countRows,
  ingestionConfig,
  openIngestionDatabase,
  publishMetrics,
  readDeadLetters,
  startTestIngestion,
  TestRegistry,
  TestTokenService,
} from './ingestion-fixtures';

const prometheus = requireTool('prometheus');
const ENV = 'prod-1';
const SAMPLES_PER_BATCH = 3;

/** A batch at `ts` (recent: Prometheus refuses samples far behind what it already holds). */
function batch(agentId: string, seq: number, ts: number) {
  return {
    agentId,
    seq,
    collectedAt: ts,
    samples: Array.from({ length: SAMPLES_PER_BATCH }, (_, i) => ({
      name: 'system.cpu.usage',
      value: seq + i / 10,
      tags: { core: String(i) },
    })),
  };
}

/** Samples Prometheus holds for the query's series over the last hour. */
async function storedSamples(server: PrometheusServer, selector: string): Promise<number> {
  const result = await server.query(`sum(count_over_time(${selector}[1h]))`);
  return result[0]?.value ?? 0;
}

prometheus.describe('the remote-write sink, against a real Prometheus', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let tokens: TestTokenService;
  let registry: TestRegistry;
  let database: TestDatabase;
  let reader: Database<IngestionDB> | undefined;
  let receiver: PrometheusServer;
  let app: INestMicroservice | undefined;

  beforeEach(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    tokens = await new TestTokenService(nc).start();
    registry = await new TestRegistry(nc).start();
    database = await createTestDatabase('sqlite', 'ingestion');
    receiver = await PrometheusServer.start();
    app = await startTestIngestion(
      ingestionConfig(nats.url, database, {
        METRICS_SINKS: 'store,remote_write',
        REMOTE_WRITE_URL: receiver.remoteWriteUrl,
      }),
    );
  });

  afterEach(async () => {
    await app?.close();
    await reader?.close();
    reader = undefined;
    tokens.stop();
    registry.stop();
    await nc.close();
    await receiver.close();
    await nats.stop();
    await database.cleanup();
  });

  it("delivers every sample to Prometheus labelled with the agent's organisation, environment, type, host and labels", async () => {
    const agentId = tokens.issue(ENV, 'ag_labelled', 'org-7');
    registry.register('org-7', ENV, agentId, {
      type: 'docker',
      hostname: 'web-1.example',
      labels: { team: 'payments', 'app.tier': 'web' },
    });
    const start = Date.now() - 60_000;
    for (let seq = 1; seq <= 5; seq++)
      await publishMetrics(nc, ENV, agentId, seq, { body: batch(agentId, seq, start + seq * 1000) });

    const selector = `system_cpu_usage{agent="${agentId}"}`;
    await waitFor(
      '5 batches in Prometheus',
      async () => (await storedSamples(receiver, selector)) === 5 * SAMPLES_PER_BATCH,
      20_000,
    );
    const series = await receiver.query(`last_over_time(${selector}[1h])`);
    expect(series.map((s) => s.metric).sort((a, b) => a.core.localeCompare(b.core))[0]).toEqual({
      __name__: 'system_cpu_usage',
      organization: 'org-7',
      environment: ENV,
      agent: agentId,
      agent_type: 'docker',
      host: 'web-1.example',
      team: 'payments',
      app_tier: 'web',
      core: '0',
    });
    // The embedded store got the same samples through its own consumer.
    reader = await openIngestionDatabase(database);
    await waitFor('the store', async () => (await countRows(reader!, 'samples')) === 5 * SAMPLES_PER_BATCH);
  });

  it('parks a batch Prometheus refuses (4xx) with its reason, and still delivers the others', async () => {
    const agentId = tokens.issue(ENV, 'ag_refused');
    registry.register('org-1', ENV, agentId);
    const now = Date.now();
    await publishMetrics(nc, ENV, agentId, 1, { body: batch(agentId, 1, now - 10_000) });
    const selector = `system_cpu_usage{agent="${agentId}"}`;
    await waitFor(
      'the first batch',
      async () => (await storedSamples(receiver, selector)) === SAMPLES_PER_BATCH,
      20_000,
    );
    // Two days behind what Prometheus holds: out of its bounds, refused with 400 whatever the retries.
    await publishMetrics(nc, ENV, agentId, 2, { body: batch(agentId, 2, now - 2 * 86_400_000) });
    await publishMetrics(nc, ENV, agentId, 3, { body: batch(agentId, 3, now - 5_000) });

    await waitFor(
      'the third batch',
      async () => (await storedSamples(receiver, selector)) === 2 * SAMPLES_PER_BATCH,
      20_000,
    );
    const parked = await waitFor('the refused batch parked', async () =>
      (await readDeadLetters(nc)).filter((p) => p.subject === 'deadletter.remote-write'),
    );
    expect(parked).toEqual([
      expect.objectContaining({
        reason: 'receiver_rejected',
        originalSubject: `agents.${ENV}.${agentId}.metrics`,
      }),
    ]);
    expect(parked[0].detail).toMatch(/^HTTP 400/);
  });

  it('loses no sample across a 30 s receiver outage while agents keep publishing', async () => {
    const agents = ['ag_outage_a', 'ag_outage_b'].map((id) => {
      tokens.issue(ENV, id);
      registry.register('org-1', ENV, id);
      return id;
    });
    const start = Date.now() - 5_000;
    let seq = 0;
    const publishFor = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        seq++;
        for (const agentId of agents)
          await publishMetrics(nc, ENV, agentId, seq, { body: batch(agentId, seq, start + seq * 100) });
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    await publishFor(3000);
    await receiver.stop();
    await publishFor(30_000);
    await receiver.start();
    await publishFor(3000);

    const published = seq * agents.length * SAMPLES_PER_BATCH;
    const selector = `system_cpu_usage{agent=~"ag_outage_.*"}`;
    await waitFor(
      `all ${published} samples in Prometheus`,
      async () => (await storedSamples(receiver, selector)) === published,
      30_000,
      500,
    );
    expect(await storedSamples(receiver, selector)).toBe(published);
  }, 120_000);
});
