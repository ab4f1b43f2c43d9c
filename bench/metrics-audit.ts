/**
 * What ingestion's metrics audit (RELIABILITY.md §8) costs: one audit pass over a backlog of metric batches that
 * are all stored (its steady state), and over the same backlog with 1 % of them missing, next to the ingestion
 * consumer storing that backlog in the same run (the work the audit shadows). SQLite.
 *
 *   node -r @swc-node/register -r tsconfig-paths/register bench/metrics-audit.ts
 *
 * Writes bench/results/metrics-audit-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { Streams } from '@app/contracts';
import { createTestDatabase, startNatsServer, waitFor } from '@app/testing';
import { MetricsAudit } from '../apps/ingestion/src/metrics/metrics-audit';
import { MetricsConsumer } from '../apps/ingestion/src/metrics/metrics-consumer';
import { METRICS_CONSUMER } from '../apps/ingestion/src/metrics/metrics-stream';
import {
  countRows,
  ingestionConfig,
  openIngestionDatabase,
  publishMetrics,
  startTestIngestion,
  TestTokenService,
} from '../apps/ingestion/test/ingestion-fixtures';

const BATCHES = 20_000;
const AGENTS = 1_000;
const SAMPLES_PER_BATCH = 20;
const MISSING_EVERY = 100;

async function main(): Promise<void> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const tokens = await new TestTokenService(nc).start();
  const database = await createTestDatabase('sqlite', 'ingestion');
  const app = await startTestIngestion(
    ingestionConfig(server.url, database, {
      METRICS_AUDIT_INTERVAL_SECONDS: '0',
      METRICS_AUDIT_DELAY_SECONDS: '1',
    }),
  );
  const reader = await openIngestionDatabase(database);
  const agentId = (i: number) => `a-${String(i % AGENTS).padStart(5, '0')}`;
  for (let i = 0; i < AGENTS; i++) tokens.issue('bench', agentId(i));
  const audit = app.get(MetricsAudit);
  await audit.run();
  const consumer = app.get(MetricsConsumer);
  await consumer.stop();

  // The backlog: 1 in MISSING_EVERY batches acked on the consumer without being stored (the server fault), first;
  // then the rest, stored by the consumer.
  const publish = async (from: number, to: number) => {
    const pending: Promise<void>[] = [];
    for (let i = from; i < to; i++) {
      pending.push(
        publishMetrics(nc, 'bench', agentId(i), Math.floor(i / AGENTS) + 1, { samples: SAMPLES_PER_BATCH }),
      );
      if (pending.length >= 512) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
  };
  const skipped = BATCHES / MISSING_EVERY;
  await publish(0, skipped);
  const durable = await nc.jetstream().consumers.get(Streams.metrics, METRICS_CONSUMER);
  for (let acked = 0; acked < skipped;)
    for await (const msg of await durable.fetch({ max_messages: skipped - acked, expires: 2000 })) {
      msg.ack();
      acked++;
    }
  await publish(skipped, BATCHES);
  const startedConsume = performance.now();
  consumer.start();
  const expected = BATCHES - skipped;
  await waitFor(
    'consumer stored the backlog',
    async () => (await countRows(reader, 'metric_batches')) >= expected,
    300_000,
    100,
  );
  const consumeMs = performance.now() - startedConsume;
  await new Promise((r) => setTimeout(r, 1500));

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const repairing = await audit.run();
  const repairMs = performance.now() - t0;
  const repairCpu = process.cpuUsage(cpu0);
  if (repairing.repaired !== skipped) throw new Error(`repaired ${repairing.repaired}`);

  // Steady state: the same backlog again, all stored: publish, let the consumer store, audit.
  await publish(BATCHES, 2 * BATCHES);
  await waitFor(
    'consumer stored the second backlog',
    async () => (await countRows(reader, 'metric_batches')) >= 2 * BATCHES,
    300_000,
    100,
  );
  await new Promise((r) => setTimeout(r, 1500));
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  const steady = await audit.run();
  const steadyMs = performance.now() - t1;
  const steadyCpu = process.cpuUsage(cpu1);

  const result = {
    at: new Date().toISOString(),
    loadavg: loadavg(),
    batches: BATCHES,
    samplesPerBatch: SAMPLES_PER_BATCH,
    consumerBatchesPerSecond: Math.round((expected / consumeMs) * 1000),
    auditRepair: {
      checked: repairing.checked,
      repaired: repairing.repaired,
      ms: Math.round(repairMs),
      batchesPerSecond: Math.round((repairing.checked / repairMs) * 1000),
      cpuMs: Math.round((repairCpu.user + repairCpu.system) / 1000),
    },
    auditSteady: {
      checked: steady.checked,
      ms: Math.round(steadyMs),
      batchesPerSecond: Math.round((steady.checked / steadyMs) * 1000),
      cpuMs: Math.round((steadyCpu.user + steadyCpu.system) / 1000),
    },
  };
  const ratio = result.auditSteady.batchesPerSecond / result.consumerBatchesPerSecond;
  console.log(JSON.stringify({ ...result, steadyAuditVsConsumer: Number(ratio.toFixed(2)) }, null, 2));
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', `metrics-audit-${Date.now()}.json`),
    JSON.stringify(result, null, 2),
  );
  await app.close();
  await reader.close();
  tokens.stop();
  await nc.close();
  await server.dispose();
  await database.cleanup();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
