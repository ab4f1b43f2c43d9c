/**
 * Fleet scale for metrics (issue 16): N simulated agents, each publishing one 20-sample JetStream
 * metrics batch every 10 s, spread evenly over the interval, through the real ingestion service. Per
 * fleet size: offered vs committed samples/s, whether every published batch was committed, lag
 * publish → committed, store size.
 *
 *   npm run build && node -r @swc-node/register -r tsconfig-paths/register bench/metrics-fleet.ts
 *   BENCH_FLEET_METRICS_AGENTS=10000,50000,100000 BENCH_FLEET_METRICS_SECONDS=60 node -r @swc-node/register -r tsconfig-paths/register bench/metrics-fleet.ts
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test … (PostgreSQL as well)
 *   BENCH_FLEET_METRICS_LAYOUT=in-process … (no build needed)
 *
 * Layout `processes` (default, as deployed): tokens and ingestion are `dist/` child processes on an
 * operator-mode bus; agent identities come from `tokens.agents.issue`; the publisher (all agents, over
 * BENCH_FLEET_METRICS_CONNECTIONS connections) and the poller are this process. `in-process`:
 * ingestion, a test token service, publisher and poller share one Node process (one event loop), so
 * the publisher's cost is charged to ingestion. Writes bench/results/metrics-fleet-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect, headers as natsHeaders, JetStreamClient, JSONCodec, MsgHdrs } from 'nats';
import { sql } from 'kysely';
import { Headers, metricsMsgId, PROTOCOL_VERSION, Streams, Subjects } from '@app/contracts';
import { Database, Engine, openDatabase } from '@app/persistence';
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
import { issueAgentIdentities } from './lib/agent-fleet';
import { startPlatform } from './lib/platform';
import { cpuSeconds } from './lib/process-sampler';
import { freePort } from './lib/http-load';
import { isBuilt } from './lib/services';

const SIZES = (process.env.BENCH_FLEET_METRICS_AGENTS ?? '100000').split(',').map(Number);
/** Steady load measured after the warm-up interval. */
const SECONDS = Number(process.env.BENCH_FLEET_METRICS_SECONDS ?? 60);
const LAYOUT = process.env.BENCH_FLEET_METRICS_LAYOUT ?? 'processes';
/** Publisher connections (processes layout): a real fleet's load arrives over many. */
const CONNECTIONS = Number(process.env.BENCH_FLEET_METRICS_CONNECTIONS ?? 4);
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

/** Where the batches go: ingestion and its database, however they are run. */
interface Target {
  database: Database<IngestionDB>;
  test: TestDatabase;
  /** Connections the simulated agents publish over. */
  publishers: JetStreamClient[];
  agentIds: string[];
  /** Headers each batch carries, as the agent sends them. */
  headers?: MsgHdrs;
  /** CPU seconds ingestion has used so far (its process, or this whole process in-process). */
  ingestionCpuSeconds(): number;
  /** BENCH_FLEET_METRICS_TRACE: prints the consumer's state and the services' CPU. */
  trace?(): Promise<void>;
  /** What ingestion logged (warnings and errors), when it runs as a process. */
  output(): string;
  stop(): Promise<void>;
}

async function inProcess(url: string, engine: Engine, agents: number): Promise<Target> {
  const nc = await connect({ servers: url });
  const tokens = await new TestTokenService(nc).start();
  const test = await createTestDatabase(engine, 'ingestion');
  await (await nc.jetstreamManager()).streams.delete(Streams.metrics).catch(() => false);
  const agentIds = Array.from({ length: agents }, (_, i) => agentId(i));
  for (const id of agentIds) tokens.issue(ENVIRONMENT, id);
  const app = await startTestIngestion(ingestionConfig(url, test));
  const database = await openIngestionDatabase(test);
  return {
    database,
    test,
    publishers: [nc.jetstream()],
    agentIds,
    ingestionCpuSeconds: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    },
    output: () => '',
    stop: async () => {
      await database.close();
      await app.close();
      tokens.stop();
      await nc.close();
      await test.cleanup();
    },
  };
}

async function separateProcesses(engine: Engine, agents: number): Promise<Target> {
  for (const s of ['tokens', 'ingestion'] as const)
    if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
  const metricsPort = await freePort();
  const platform = await startPlatform({
    engine,
    services: ['tokens', 'ingestion'],
    env: { ingestion: { LOG_LEVEL: 'warn', METRICS_PORT: String(metricsPort) } },
  });
  try {
    const issued = await issueAgentIdentities(platform.rpc, platform.organizationId, ENVIRONMENT, 0, agents);
    const database = await openDatabase<IngestionDB>({ ...platform.database.options, name: 'ingestion' });
    const connections = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => platform.nats.bus!.connectWith('bench', ['>'], ['>'])),
    );
    const headers = natsHeaders();
    headers.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
    const pid = platform.processes.ingestion!.pid;
    return {
      database,
      test: platform.database,
      publishers: connections.map((c) => c.jetstream()),
      agentIds: issued.map((a) => a.agentId),
      headers,
      ingestionCpuSeconds: () => cpuSeconds(pid),
      output: () => platform.processes.ingestion!.output(),
      trace: async () => {
        const info = await (
          await platform.nc.jetstreamManager()
        ).consumers
          .info(Streams.metrics, 'ingestion')
          .catch(() => undefined);
        const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
          .then((r) => r.text())
          .catch(() => '');
        const pick = (name: string) =>
          text
            .split('\n')
            .filter((l) => l.startsWith(name))
            .map((l) => l.replace(/^ingestion_/, ''))
            .join(' ');
        process.stderr.write(
          `  ${pick('ingestion_commit_seconds_sum')} ${pick('ingestion_commit_seconds_count')} ${pick('ingestion_batch_messages_sum')} ${pick('ingestion_rejected')} ${pick('ingestion_received')}\n`,
        );
        process.stderr.write(
          `${new Date().toISOString()} pending ${info?.num_pending} ack-pending ${info?.num_ack_pending} delivered ${info?.delivered.stream_seq} ` +
            `cpu ingestion ${cpuSeconds(pid).toFixed(1)} s tokens ${cpuSeconds(platform.processes.tokens!.pid).toFixed(1)} s nats-server ${cpuSeconds(platform.nats.pid!).toFixed(1)} s bench ${(process.cpuUsage().user / 1e6).toFixed(1)} s load ${loadavg()[0].toFixed(1)}\n`,
        );
      },
      stop: async () => {
        await database.close();
        for (const c of connections) await c.close().catch(() => undefined);
        // Stops ingestion before measuring the store would lose nothing: every batch is committed by now.
        await platform.stop();
      },
    };
  } catch (error) {
    await platform.stop();
    throw error;
  }
}

async function fleet(url: string, engine: Engine, agents: number) {
  const target =
    LAYOUT === 'in-process' ? await inProcess(url, engine, agents) : await separateProcesses(engine, agents);
  const { database, publishers, agentIds } = target;
  const pending: Pending = new Map();
  const seen: Seen = { stored: [], visible: [], storedAt: [] };
  const rate = agents / INTERVAL_S;
  const loadStart = loadavg()[0];
  const cpuStart = process.cpuUsage();
  const ingestionCpuStart = target.ingestionCpuSeconds();
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
  const trace = process.env.BENCH_FLEET_METRICS_TRACE
    ? setInterval(() => void target.trace?.(), 5000)
    : undefined;
  const perf0 = performance.now();
  while (Date.now() < measureTo) {
    const due = Math.floor(((performance.now() - perf0) / 1000) * rate);
    for (; published < due; published++) {
      const i = published % agents;
      const seq = Math.floor(published / agents);
      const id = agentIds[i];
      const ts = Date.now();
      const key = `${id}:${seq}`;
      pending.set(key, ts);
      if (ts >= measureFrom) measuredPublished++;
      const body = { ...metricsBody(id, seq, SAMPLES_PER_BATCH), collectedAt: ts };
      publishers[i % publishers.length]
        .publish(Subjects.metrics(ENVIRONMENT, id), json.encode(body), {
          msgID: metricsMsgId(id, seq),
          ...(target.headers ? { headers: target.headers } : {}),
        })
        .catch(
          // Kept in `pending`: a publish that timed out waiting for its ack may still have been stored.
          (error: unknown) => {
            publishFailures++;
            firstPublishError ??= String(error);
          },
        );
    }
    await sleep(TICK_MS);
  }
  clearInterval(trace);
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
  const elapsedMs = Date.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100;
  const ingestionCpuPercent = ((target.ingestionCpuSeconds() - ingestionCpuStart) * 1000 * 100) / elapsedMs;
  const committedInWindow = seen.storedAt.filter((t) => t < measureTo).length;
  const batches = await countRows(database, 'metric_batches');
  const samples = await countRows(database, 'samples');
  const bytes = await storeBytes(database, target.test);
  const stored = [...seen.stored].sort((a, b) => a - b);
  const visible = [...seen.visible].sort((a, b) => a - b);
  const result = {
    engine,
    layout: LAYOUT,
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
    benchProcessCpuPercentOfOneCore: cpuPercent,
    ingestionCpuPercentOfOneCore: ingestionCpuPercent,
  };
  // Why a run fell behind is in ingestion's warnings (held messages, lookups that timed out).
  if (result.storedLagMs.p99 > 2000 || result.missingAfterDrain)
    process.stderr.write(`--- ingestion output (tail) ---\n${target.output().slice(-3000)}\n`);
  await target.stop();
  return result;
}

async function main() {
  const server = await startNatsServer();
  const runs = [];
  try {
    console.log(`layout: ${LAYOUT}`);
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
    '| engine | agents | load 1 min (start → end) | offered samples/s | committed samples/s (window) | published | missing after drain | lag p50 / p99 / max (ts → stored_at) | lag p50 / p99 (ts → visible) | MiB per million samples | CPU: ingestion / bench process |',
  );
  console.log('|---|---:|---|---:|---:|---:|---:|---|---|---:|---|');
  for (const r of runs)
    console.log(
      `| ${r.engine} | ${r.agents} | ${r.loadAverage.map((l) => l.toFixed(1)).join(' → ')} | ${Math.round(r.offeredSamplesPerSecond)} | ` +
        `${Math.round(r.committedSamplesPerSecondInWindow)} | ${r.publishedTotal} (${r.publishFailures} failed) | ` +
        `${r.missingAfterDrain} (drain ${r.drainSeconds.toFixed(0)} s) | ${r.storedLagMs.p50} / ${r.storedLagMs.p99} / ${r.storedLagMs.max} ms | ` +
        `${r.visibleLagMs.p50} / ${r.visibleLagMs.p99} ms | ${r.mibPerMillionSamples.toFixed(1)} | ${r.ingestionCpuPercentOfOneCore.toFixed(0)} % / ${r.benchProcessCpuPercentOfOneCore.toFixed(0)} % |`,
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
