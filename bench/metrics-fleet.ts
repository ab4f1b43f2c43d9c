/**
 * Fleet scale for metrics (issue 16): N simulated agents, each publishing one 20-sample JetStream
 * metrics batch every 10 s, spread evenly over the interval, through the real ingestion service
 * (in-process, as bench/ingestion-metrics.ts runs it). Per fleet size: offered vs committed
 * samples/s, whether every published batch was committed, lag publish → committed, store size.
 *
 *   node -r @swc-node/register bench/metrics-fleet.ts
 *   BENCH_FLEET_METRICS_AGENTS=10000,50000,100000 BENCH_FLEET_METRICS_SECONDS=60 node -r @swc-node/register bench/metrics-fleet.ts
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node -r @swc-node/register bench/metrics-fleet.ts
 *
 * Publisher, ingestion and the poller share one Node process (one event loop): on a small machine
 * the publisher's own cost is part of what the figures show. Writes bench/results/metrics-fleet-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect, JetStreamClient, JSONCodec } from 'nats';
import { sql } from 'kysely';
import { metricsMsgId, Streams, Subjects } from '@app/contracts';
import { Database, Engine } from '@app/persistence';
import { createTestDatabase, startNatsServer, TestDatabase, testEngines } from '@app/testing';
import { IngestionDB } from '../apps/ingestion/src/database';
import {
  countRows,
  ingestionConfig,
  metricsBody,
  openIngestionDatabase,
  startTestIngestion,
  TestTokenService,
} from '../apps/ingestion/test/ingestion-fixtures';

const SIZES = (process.env.BENCH_FLEET_METRICS_AGENTS ?? '100000').split(',').map(Number);
/** Steady load measured after the warm-up interval. */
const SECONDS = Number(process.env.BENCH_FLEET_METRICS_SECONDS ?? 60);
const INTERVAL_S = 10;
const SAMPLES_PER_BATCH = 20;
const ENVIRONMENT = 'bench';
const TICK_MS = 5;
const POLL_MS = 250;
/** After publishing stops, how long the bench waits for the last batches to be committed. */
const DRAIN_MS = 60_000;

const json = JSONCodec<unknown>();

/** Published and not yet seen committed: `<agentId>:<seq>` → publish time (= the batch's collectedAt). */
type Pending = Map<string, number>;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function agentId(i: number): string {
  return `f-${String(i).padStart(6, '0')}`;
}

interface Seen {
  /** stored_at − publish time (ingestion's clock at the write, just before the commit). */
  stored: number[];
  /** first poll that saw the batch − publish time. */
  visible: number[];
  /** stored_at of every batch published in the measured window. */
  storedAt: number[];
}

/** Every batch committed since the oldest still pending; matches them against `pending`. */
async function pollOnce(database: Database<IngestionDB>, pending: Pending, measureFrom: number, seen: Seen) {
  const oldest = pending.values().next().value;
  if (oldest === undefined) return;
  const rows = await database.db
    .selectFrom('metric_batches')
    .select(['agent_id', 'seq', 'stored_at'])
    .where('stored_at', '>=', oldest)
    .execute();
  const now = Date.now();
  for (const row of rows) {
    const key = `${row.agent_id}:${Number(row.seq)}`;
    const ts = pending.get(key);
    if (ts === undefined) continue;
    pending.delete(key);
    if (ts < measureFrom) continue;
    seen.stored.push(Number(row.stored_at) - ts);
    seen.visible.push(now - ts);
    seen.storedAt.push(Number(row.stored_at));
  }
}

function directoryBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

async function storeBytes(database: Database<IngestionDB>, test: TestDatabase): Promise<number> {
  if (test.engine === 'sqlite') {
    // Fold the WAL back in so the file is the store, not store + log.
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(database.db);
    return directoryBytes(test.options.dataDir);
  }
  const row = await sql<{ n: string }>`SELECT pg_database_size(current_database()) AS n`.execute(database.db);
  return Number(row.rows[0].n);
}

async function fleet(url: string, engine: Engine, agents: number) {
  const nc = await connect({ servers: url });
  const tokens = await new TestTokenService(nc).start();
  const test = await createTestDatabase(engine, 'ingestion');
  await (await nc.jetstreamManager()).streams.delete(Streams.metrics).catch(() => false);
  for (let i = 0; i < agents; i++) tokens.issue(ENVIRONMENT, agentId(i));
  const app = await startTestIngestion(ingestionConfig(url, test));
  const database = await openIngestionDatabase(test);
  const js: JetStreamClient = nc.jetstream();
  const pending: Pending = new Map();
  const seen: Seen = { stored: [], visible: [], storedAt: [] };
  const rate = agents / INTERVAL_S;
  const loadStart = loadavg()[0];
  const cpuStart = process.cpuUsage();
  let publishFailures = 0;
  let firstPublishError: string | undefined;
  let published = 0;
  let measuredPublished = 0;
  const started = Date.now();
  // The first interval is warm-up: every agent's first batch costs ingestion a directory lookup.
  const measureFrom = started + INTERVAL_S * 1000;
  const measureTo = measureFrom + SECONDS * 1000;
  let publishing = true;
  const poller = (async () => {
    while (publishing) {
      await pollOnce(database, pending, measureFrom, seen);
      await sleep(POLL_MS);
    }
  })();
  const perf0 = performance.now();
  while (Date.now() < measureTo) {
    const due = Math.floor(((performance.now() - perf0) / 1000) * rate);
    for (; published < due; published++) {
      const i = published % agents;
      const seq = Math.floor(published / agents);
      const id = agentId(i);
      const ts = Date.now();
      const key = `${id}:${seq}`;
      pending.set(key, ts);
      if (ts >= measureFrom) measuredPublished++;
      const body = { ...metricsBody(id, seq, SAMPLES_PER_BATCH), collectedAt: ts };
      js.publish(Subjects.metrics(ENVIRONMENT, id), json.encode(body), {
        msgID: metricsMsgId(id, seq),
      }).catch(
        // Kept in `pending`: a publish that timed out waiting for its ack may still have been stored.
        (error: unknown) => {
          publishFailures++;
          firstPublishError ??= String(error);
        },
      );
    }
    await sleep(TICK_MS);
  }
  const publishedSeconds = (Date.now() - measureFrom) / 1000;
  const backlogAtEnd = pending.size;
  publishing = false;
  await poller;
  const drainStart = Date.now();
  while (pending.size && Date.now() - drainStart < DRAIN_MS) {
    await pollOnce(database, pending, measureFrom, seen);
    await sleep(POLL_MS);
  }
  const drainSeconds = (Date.now() - drainStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (Date.now() - started)) * 100;
  const committedInWindow = seen.storedAt.filter((t) => t < measureTo).length;
  const batches = await countRows(database, 'metric_batches');
  const samples = await countRows(database, 'samples');
  const bytes = await storeBytes(database, test);
  const stored = [...seen.stored].sort((a, b) => a - b);
  const visible = [...seen.visible].sort((a, b) => a - b);
  const result = {
    engine,
    agents,
    seconds: SECONDS,
    loadAverage: [loadStart, loadavg()[0]],
    publishedTotal: published,
    publishFailures,
    firstPublishError,
    measuredPublished,
    offeredSamplesPerSecond: (measuredPublished * SAMPLES_PER_BATCH) / publishedSeconds,
    committedSamplesPerSecondInWindow: (committedInWindow * SAMPLES_PER_BATCH) / SECONDS,
    backlogAtEnd,
    drainSeconds,
    batchesInStore: batches,
    /** Published batches (acked or not) never seen in metric_batches. */
    missingAfterDrain: pending.size,
    storedLagMs: { p50: quantile(stored, 0.5), p99: quantile(stored, 0.99), max: stored[stored.length - 1] },
    visibleLagMs: {
      p50: quantile(visible, 0.5),
      p99: quantile(visible, 0.99),
      max: visible[visible.length - 1],
    },
    samplesInStore: samples,
    storeBytes: bytes,
    mibPerMillionSamples: bytes / 1024 / 1024 / (samples / 1e6),
    processCpuPercentOfOneCore: cpuPercent,
  };
  await database.close();
  await app.close();
  tokens.stop();
  await nc.close();
  await test.cleanup();
  return result;
}

async function main() {
  const server = await startNatsServer();
  const runs = [];
  try {
    for (const engine of testEngines()) {
      for (const agents of SIZES) {
        const r = await fleet(server.url, engine, agents);
        console.log(JSON.stringify(r));
        runs.push(r);
      }
    }
  } finally {
    await server.dispose();
  }
  console.log(
    `\n${SECONDS} s of steady load after a ${INTERVAL_S} s warm-up, ${SAMPLES_PER_BATCH} samples per batch, ` +
      `one batch per agent every ${INTERVAL_S} s; load average now ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (2 cores)\n`,
  );
  console.log(
    '| engine | agents | load 1 min (start → end) | offered samples/s | committed samples/s (window) | published | missing after drain | lag p50 / p99 / max (ts → stored_at) | lag p50 / p99 (ts → visible) | MiB per million samples | CPU (bench process) |',
  );
  console.log('|---|---:|---|---:|---:|---:|---:|---|---|---:|---:|');
  for (const r of runs)
    console.log(
      `| ${r.engine} | ${r.agents} | ${r.loadAverage.map((l) => l.toFixed(1)).join(' → ')} | ${Math.round(r.offeredSamplesPerSecond)} | ` +
        `${Math.round(r.committedSamplesPerSecondInWindow)} | ${r.publishedTotal} (${r.publishFailures} failed) | ` +
        `${r.missingAfterDrain} (drain ${r.drainSeconds.toFixed(0)} s) | ${r.storedLagMs.p50} / ${r.storedLagMs.p99} / ${r.storedLagMs.max} ms | ` +
        `${r.visibleLagMs.p50} / ${r.visibleLagMs.p99} ms | ${r.mibPerMillionSamples.toFixed(1)} | ${r.processCpuPercentOfOneCore.toFixed(0)} % |`,
    );
  const results = join(__dirname, 'results');
  mkdirSync(results, { recursive: true });
  const file = join(results, `metrics-fleet-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ runs }, null, 2));
  console.log(`\nwrote ${file}`);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
