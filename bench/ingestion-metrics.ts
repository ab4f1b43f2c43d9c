/**
 * Metric samples/s committed by ingestion (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)
 * next to raw JetStream publish and pull-consume of the same messages, same run.
 *
 *   node -r @swc-node/register bench/ingestion-metrics.ts
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node -r @swc-node/register bench/ingestion-metrics.ts
 *   BENCH_METRICS_BATCHES=100000 node -r @swc-node/register bench/ingestion-metrics.ts
 *
 * The backlog is published first, then consumed: the figure is the consumer's rate, which is
 * what must keep up with the fleet. Loopback only, bounded well under 2 minutes.
 * Writes bench/results/ingestion-metrics-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, connect, JetStreamClient, JSONCodec, NatsConnection, PubAck } from 'nats';
import { metricsMsgId, Streams, Subjects } from '@app/contracts';
import { Engine } from '@app/persistence';
import { createTestDatabase, startNatsServer, testEngines } from '@app/testing';
import { IngestionMetrics } from '../apps/ingestion/src/observability/ingestion-metrics';
import {
  ingestionConfig,
  metricsBody,
  startTestIngestion,
  TestTokenService,
} from '../apps/ingestion/test/ingestion-fixtures';

/**
 * Metric batches per run (BENCH_METRICS_BATCHES, default 20,000) and samples in each: ~20 per batch is a
 * server agent's collection. More batches make the figure less sensitive to a busy machine's bursts.
 */
const BATCHES = Number(process.env.BENCH_METRICS_BATCHES ?? 20_000);
const SAMPLES_PER_BATCH = 20;
const AGENTS = 1_000;
/** Outstanding JetStream publishes before waiting for their acks. */
const PUBLISH_WINDOW = 512;
const PULL_BATCH = 500;
const STALL_MS = 10_000;

const json = JSONCodec<unknown>();

interface Published {
  subject: string;
  data: Uint8Array;
  msgID: string;
}

function backlog(subjectOf: (agentId: string) => string): Published[] {
  return Array.from({ length: BATCHES }, (_, i) => {
    const agent = i % AGENTS;
    const agentId = `m-${String(agent).padStart(5, '0')}`;
    const seq = Math.floor(i / AGENTS);
    return {
      subject: subjectOf(agentId),
      data: json.encode(metricsBody(agentId, seq, SAMPLES_PER_BATCH)),
      msgID: metricsMsgId(agentId, seq),
    };
  });
}

async function publishAll(js: JetStreamClient, messages: Published[]): Promise<number> {
  const started = process.hrtime.bigint();
  let window: Promise<PubAck>[] = [];
  for (const m of messages) {
    window.push(js.publish(m.subject, m.data, { msgID: m.msgID }));
    if (window.length >= PUBLISH_WINDOW) {
      await Promise.all(window);
      window = [];
    }
  }
  await Promise.all(window);
  return messages.length / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** CPU time of this process (user + system) in microseconds: steadier than wall time on a busy machine. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function rawBaseline(
  nc: NatsConnection,
): Promise<{ publishPerSecond: number; consumePerSecond: number; consumeCpuMicrosPerBatch: number }> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['benchraw.>'] });
  await jsm.consumers.add('BENCH_RAW', { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const js = nc.jetstream();
  const messages = backlog((id) => `benchraw.${id}`);
  const publishPerSecond = await publishAll(js, messages);
  const consumer = await js.consumers.get('BENCH_RAW', 'raw');
  const started = process.hrtime.bigint();
  const cpuStarted = cpuMicros();
  let consumed = 0;
  while (consumed < BATCHES) {
    const iter = await consumer.fetch({ max_messages: PULL_BATCH, expires: 1000 });
    for await (const m of iter) {
      JSON.parse(Buffer.from(m.data).toString('utf8'));
      m.ack();
      consumed++;
    }
  }
  await nc.flush();
  const consumePerSecond = consumed / (Number(process.hrtime.bigint() - started) / 1e9);
  const consumeCpuMicrosPerBatch = (cpuMicros() - cpuStarted) / consumed;
  await jsm.streams.delete('BENCH_RAW');
  return { publishPerSecond, consumePerSecond, consumeCpuMicrosPerBatch };
}

async function ingestion(url: string, engine: Engine) {
  const nc = await connect({ servers: url });
  const tokens = await new TestTokenService(nc).start();
  const database = await createTestDatabase(engine, 'ingestion');
  const config = ingestionConfig(url, database);
  // A fresh stream per engine: the previous run's msgIDs would otherwise be dropped as duplicates.
  await (await nc.jetstreamManager()).streams.delete(Streams.metrics).catch(() => false);
  // First start creates AGENT_METRICS and the consumer; stop so the backlog builds up unconsumed.
  await (await startTestIngestion(config)).close();
  for (let i = 0; i < AGENTS; i++) tokens.issue('bench', `m-${String(i).padStart(5, '0')}`);
  await publishAll(
    nc.jetstream(),
    backlog((id) => Subjects.metrics('bench', id)),
  );
  const app = await startTestIngestion(config);
  const metrics = app.get(IngestionMetrics);
  const started = process.hrtime.bigint();
  // Ingestion runs in this process; while it drains the backlog nothing else here works but the 10 ms poll.
  const cpuStarted = cpuMicros();
  let stored = 0;
  let lastGrowth = process.hrtime.bigint();
  while (stored < BATCHES) {
    const n = await metrics.total(metrics.batchesStored);
    if (n !== stored) {
      stored = n;
      lastGrowth = process.hrtime.bigint();
    } else if (Number(process.hrtime.bigint() - lastGrowth) / 1e6 > STALL_MS) {
      process.stderr.write(`${engine}: stalled at ${stored}/${BATCHES}\n`);
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const seconds = Number(lastGrowth - started) / 1e9;
  const cpuMicrosPerBatch = (cpuMicros() - cpuStarted) / stored;
  const commit = (await metrics.commitSeconds.get()).values;
  const sum = commit.find((v) => v.metricName === 'ingestion_commit_seconds_sum')?.value ?? 0;
  const count = commit.find((v) => v.metricName === 'ingestion_commit_seconds_count')?.value ?? 1;
  await app.close();
  tokens.stop();
  await nc.close();
  await database.cleanup();
  return {
    engine,
    batches: stored,
    batchesPerSecond: stored / seconds,
    samplesPerSecond: (stored * SAMPLES_PER_BATCH) / seconds,
    commits: count,
    meanCommitMs: (sum / count) * 1000,
    cpuMicrosPerBatch,
  };
}

async function main() {
  const server = await startNatsServer();
  try {
    const nc = await connect({ servers: server.url });
    const baseline = await rawBaseline(nc);
    await nc.close();
    const runs = [];
    for (const engine of testEngines()) runs.push(await ingestion(server.url, engine));

    console.log(
      `\nload average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (2 cores)`,
    );
    console.log(`Metrics: ${BATCHES} batches × ${SAMPLES_PER_BATCH} samples from ${AGENTS} agents\n`);
    console.log('| path | batches/s | samples/s | mean commit | CPU µs per batch (this process) |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(
      `| raw JetStream publish (async, window ${PUBLISH_WINDOW}) | ${Math.round(baseline.publishPerSecond)} | ${Math.round(baseline.publishPerSecond * SAMPLES_PER_BATCH)} | | |`,
    );
    console.log(
      `| raw JetStream pull + parse + ack | ${Math.round(baseline.consumePerSecond)} | ${Math.round(baseline.consumePerSecond * SAMPLES_PER_BATCH)} | | ${baseline.consumeCpuMicrosPerBatch.toFixed(1)} |`,
    );
    for (const r of runs)
      console.log(
        `| ingestion → ${r.engine} (verify, check, one commit per fetch, ack) | ${Math.round(r.batchesPerSecond)} | ${Math.round(r.samplesPerSecond)} | ${r.meanCommitMs.toFixed(1)} ms × ${r.commits} | ${r.cpuMicrosPerBatch.toFixed(1)} |`,
      );
    const results = join(__dirname, 'results');
    mkdirSync(results, { recursive: true });
    const file = join(results, `ingestion-metrics-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          batches: BATCHES,
          samplesPerBatch: SAMPLES_PER_BATCH,
          agents: AGENTS,
          loadAverage: loadavg(),
          baseline,
          ingestion: runs,
        },
        null,
        2,
      ),
    );
    console.log(`\nwrote ${file}`);
  } finally {
    await server.dispose();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
