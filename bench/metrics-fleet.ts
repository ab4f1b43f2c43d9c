/**
 * Fleet scale for metrics (issue 16): N simulated agents, each publishing one 20-sample JetStream
 * metrics batch every 10 s, spread evenly over the interval, through the platform as deployed: tokens
 * and ingestion are `dist/` child processes on an operator-mode bus with TLS, agent identities come
 * from `tokens.agents.issue`, and the agents are BENCH_FLEET_METRICS_PUBLISHERS publisher processes
 * (bench/lib/metrics-publisher.ts), each its own NATS connection. Per fleet size: offered vs committed
 * samples/s, whether every published batch was committed, lag due time → committed, store size.
 *
 *   npm run build && node -r @swc-node/register -r tsconfig-paths/register bench/metrics-fleet.ts
 *   BENCH_FLEET_METRICS_AGENTS=10000,50000,100000 BENCH_FLEET_METRICS_SECONDS=60 node -r @swc-node/register -r tsconfig-paths/register bench/metrics-fleet.ts
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test … (PostgreSQL as well; BENCH_FLEET_METRICS_ENGINES=postgres for it alone)
 *
 * Lag is measured from each batch's *due* time (its slot in the schedule), not from when the publisher
 * got round to it, to `metric_batches.stored_at` (ingestion's clock just before the commit): a late
 * publisher counts against the figure. Before the measured load, a warm-up: every agent's first batch at
 * once (a directory look-up and 20 new series each, as after a fleet-wide restart), timed until all are
 * committed, then the steady schedule starts. Writes bench/results/metrics-fleet-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { headers as natsHeaders, JSONCodec } from 'nats';
import { Headers, metricsMsgId, PROTOCOL_VERSION, Subjects } from '@app/contracts';
import { customPermissions } from '@app/nats-auth';
import { Database, Engine, openDatabase } from '@app/persistence';
import { TestDatabase, testEngines } from '@app/testing';
import { IngestionDB } from '../apps/ingestion/src/database';
import { countRows, metricsBody } from '../apps/ingestion/test/ingestion-fixtures';
import { fleetAgentId, issueAgentIdentities } from './lib/agent-fleet';
import { dueAt, PublisherReport } from './lib/metrics-publisher';
import { Platform, startPlatform } from './lib/platform';
import { cpuSeconds } from './lib/process-sampler';
import { isBuilt, REPO_ROOT, ServiceProcess, startTsProcess } from './lib/services';

const SIZES = (process.env.BENCH_FLEET_METRICS_AGENTS ?? '100000').split(',').map(Number);
/** BENCH_FLEET_METRICS_ENGINES=postgres: one engine only (default: SQLite, and PostgreSQL when TEST_DATABASE_URL is set). */
const ENGINES = process.env.BENCH_FLEET_METRICS_ENGINES
  ? (process.env.BENCH_FLEET_METRICS_ENGINES.split(',') as Engine[])
  : testEngines();
/** Steady load measured after the warm-up interval. */
const SECONDS = Number(process.env.BENCH_FLEET_METRICS_SECONDS ?? 60);
/** Publisher processes: one Node process cannot offer 100,000 agents' load and track its acks. */
const PUBLISHERS = Number(process.env.BENCH_FLEET_METRICS_PUBLISHERS ?? 2);
const INTERVAL_MS = 10_000;
const json = JSONCodec<unknown>();
const SAMPLES_PER_BATCH = 20;
const ENVIRONMENT = 'bench';
/** After publishing ends, how long the bench waits for the last batches to be committed. */
const DRAIN_MS = 60_000;
const PUBLISHER_USER = 'bench-publisher';
/** The warm-up (every agent's first batch at once) must be committed within this. */
const WARM_UP_MS = 600_000;
/**
 * BENCH_FLEET_METRICS_ACKS=0: the simulated agents publish without waiting for JetStream's PubAck
 * (the stream still stores and dedupes every batch). Tracking 10,000 acks/s in two Node processes
 * takes more CPU than this 2-core machine has beside nats-server and ingestion; real agents each
 * wait for one ack per 10 s.
 */
const ACKS = process.env.BENCH_FLEET_METRICS_ACKS ?? '1';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
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

/** The consumer's state and every process's CPU every 5 s (BENCH_FLEET_METRICS_TRACE=1). */
function traceEvery5s(platform: Platform, publishers: ServiceProcess[]): () => void {
  if (!process.env.BENCH_FLEET_METRICS_TRACE) return () => undefined;
  const timer = setInterval(() => {
    void (async () => {
      const info = await (await platform.nc.jetstreamManager()).consumers.info('AGENT_METRICS', 'ingestion');
      const cpu = (pid: number | undefined) => (pid ? cpuSeconds(pid).toFixed(1) : '?');
      process.stderr.write(
        `${new Date().toISOString()} pending ${info.num_pending} ack-pending ${info.num_ack_pending} ` +
          `delivered ${info.delivered.stream_seq}; CPU s: ingestion ${cpu(platform.processes.ingestion?.pid)} ` +
          `nats-server ${cpu(platform.nats.pid)} publishers ${publishers.map((p) => cpu(p.pid)).join('+')}; ` +
          `load ${loadavg()[0].toFixed(1)}\n`,
      );
    })().catch((error: unknown) => process.stderr.write(`trace: ${String(error)}\n`));
  }, 5000);
  return () => clearInterval(timer);
}

/** Every agent's seq-0 batch, as the agent publishes it (JetStream, msgID, headers), acks awaited in windows. */
async function publishWarmUp(platform: Platform, agents: number): Promise<void> {
  const js = platform.nc.jetstream();
  const headers = natsHeaders();
  headers.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
  let window: Promise<unknown>[] = [];
  for (let i = 0; i < agents; i++) {
    const id = fleetAgentId(i);
    const body = { ...metricsBody(id, 0, SAMPLES_PER_BATCH), collectedAt: Date.now() };
    window.push(
      js.publish(Subjects.metrics(ENVIRONMENT, id), json.encode(body), {
        msgID: metricsMsgId(id, 0),
        headers,
      }),
    );
    if (window.length >= 512) {
      await Promise.all(window);
      window = [];
    }
  }
  await Promise.all(window);
}

async function waitForExit(p: ServiceProcess): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode;
  return new Promise((resolve) => p.child.once('exit', (code) => resolve(code)));
}

async function fleet(engine: Engine, agents: number) {
  for (const s of ['tokens', 'ingestion'] as const)
    if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
  const platform = await startPlatform({
    engine,
    services: ['tokens', 'ingestion'],
    env: { ingestion: { LOG_LEVEL: 'warn' } },
  });
  let database: Database<IngestionDB> | undefined;
  try {
    await issueAgentIdentities(platform.rpc, platform.organizationId, ENVIRONMENT, 0, agents);
    database = await openDatabase<IngestionDB>({ ...platform.database.options, name: 'ingestion' });
    const bus = platform.nats.bus!;
    // Agents' subjects to publish on; JetStream's acks come back to the publisher's own inbox.
    const creds = await bus.authority.writePlatformCreds(
      PUBLISHER_USER,
      customPermissions([`agents.${ENVIRONMENT}.*.metrics`], []),
    );
    // Warm-up, not measured: every agent's first batch (seq 0) costs ingestion a directory look-up and
    // its new series. Published at once, as after a fleet-wide restart, and timed until all are committed.
    const warmStart = Date.now();
    await publishWarmUp(platform, agents);
    let warm = 0;
    while (
      (warm = await countRows(database, 'metric_batches')) < agents &&
      Date.now() - warmStart < WARM_UP_MS
    )
      await sleep(500);
    if (warm < agents) throw new Error(`warm-up: ${warm} of ${agents} first batches committed`);
    const warmUpSeconds = (Date.now() - warmStart) / 1000;
    const batchesPerAgent = SECONDS / (INTERVAL_MS / 1000);
    // A common start a little ahead, so every publisher has loaded before the first batch is due.
    const start = Date.now() + 5000;
    const measureFrom = start;
    const measureTo = start + batchesPerAgent * INTERVAL_MS;
    const loadStart = loadavg()[0];
    const cpuStart = {
      ingestion: cpuSeconds(platform.processes.ingestion!.pid),
      nats: cpuSeconds(platform.nats.pid!),
    };
    const publishers = Array.from({ length: PUBLISHERS }, (_, p) =>
      startTsProcess(`publisher-${p}`, join(REPO_ROOT, 'bench', 'lib', 'metrics-publisher.ts'), {
        NODE_OPTIONS: '-r tsconfig-paths/register',
        NATS_URL: platform.nats.url,
        NATS_CREDS: creds,
        NATS_CA_FILE: bus.caFile,
        NATS_USER: PUBLISHER_USER,
        AGENTS: String(agents),
        FROM: String(Math.floor((p * agents) / PUBLISHERS)),
        TO: String(Math.floor(((p + 1) * agents) / PUBLISHERS)),
        INTERVAL_MS: String(INTERVAL_MS),
        START: String(start),
        BATCHES_PER_AGENT: String(batchesPerAgent),
        FIRST_SEQ: '1',
        ENVIRONMENT,
        SAMPLES: String(SAMPLES_PER_BATCH),
        ACKS,
      }),
    );
    const stopTrace = traceEvery5s(platform, publishers);
    const codes = await Promise.all(publishers.map(waitForExit));
    stopTrace();
    const reports: PublisherReport[] = publishers.map((p, i) => {
      const line = p.output().trim().split('\n').pop() ?? '';
      if (codes[i] !== 0 || !line.startsWith('{'))
        throw new Error(`${p.name} failed (exit ${codes[i]}):\n${p.output().slice(-3000)}`);
      return JSON.parse(line) as PublisherReport;
    });
    const publishEnded = Date.now();
    const expected = agents * (1 + batchesPerAgent);
    let batches = await countRows(database, 'metric_batches');
    while (batches < expected && Date.now() - publishEnded < DRAIN_MS) {
      await sleep(500);
      batches = await countRows(database, 'metric_batches');
    }
    const drainSeconds = (Date.now() - publishEnded) / 1000;
    const elapsedMs = Date.now() - start;
    const ingestionCpu = cpuSeconds(platform.processes.ingestion!.pid) - cpuStart.ingestion;
    const natsCpu = cpuSeconds(platform.nats.pid!) - cpuStart.nats;

    // Lag of every measured batch: stored_at − its due time.
    const rows = await database.db
      .selectFrom('metric_batches')
      .select(['agent_id', 'seq', 'stored_at'])
      .execute();
    const lags: number[] = [];
    /** Lags by the interval their batch was due in: steady growth means too little capacity, one bad interval a stall. */
    const lagsByInterval: number[][] = Array.from({ length: batchesPerAgent }, () => []);
    let committedInWindow = 0;
    for (const row of rows) {
      const k = Number(row.seq);
      const storedAt = Number(row.stored_at);
      if (k < 1) continue;
      const index = Number(row.agent_id.slice(row.agent_id.indexOf('-') + 1));
      const lag = storedAt - dueAt(start, INTERVAL_MS, agents, index, k - 1);
      lags.push(lag);
      lagsByInterval[k - 1]?.push(lag);
      if (storedAt < measureTo) committedInWindow++;
    }
    lags.sort((a, b) => a - b);
    for (const interval of lagsByInterval) interval.sort((a, b) => a - b);
    const samples = await countRows(database, 'samples');
    const bytes = await storeBytes(database, platform.database);
    const sum = (f: (r: PublisherReport) => number) => reports.reduce((n, r) => n + f(r), 0);
    const measuredBatches = agents * batchesPerAgent;
    const result = {
      engine,
      agents,
      seconds: SECONDS,
      publishers: PUBLISHERS,
      publishAcks: ACKS !== '0',
      loadAverage: [loadStart, loadavg()[0]],
      warmUpSeconds,
      expectedBatches: expected,
      publishAcked: sum((r) => r.published),
      publishFailed: sum((r) => r.failed),
      firstPublishError: reports.find((r) => r.firstError)?.firstError,
      publisherMaxLatenessMs: Math.max(...reports.map((r) => r.maxLatenessMs)),
      offeredSamplesPerSecond: (measuredBatches * SAMPLES_PER_BATCH) / ((measureTo - measureFrom) / 1000),
      committedSamplesPerSecondInWindow:
        (committedInWindow * SAMPLES_PER_BATCH) / ((measureTo - measureFrom) / 1000),
      drainSeconds,
      batchesInStore: batches,
      /** Due batches never seen in metric_batches (each was published; an ack timeout still counts as published). */
      missingAfterDrain: expected - batches,
      lagMs: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags[lags.length - 1] },
      lagP99MsByInterval: lagsByInterval.map((interval) => quantile(interval, 0.99)),
      samplesInStore: samples,
      storeBytes: bytes,
      mibPerMillionSamples: bytes / 1024 / 1024 / (samples / 1e6),
      cpuPercentOfOneCore: {
        ingestion: (ingestionCpu * 100_000) / elapsedMs,
        natsServer: (natsCpu * 100_000) / elapsedMs,
        publishers: (sum((r) => r.cpuSeconds) * 100_000) / elapsedMs,
      },
    };
    if (result.lagMs.p99 > 2000 || result.missingAfterDrain)
      process.stderr.write(
        `--- ingestion output (tail) ---\n${platform.processes.ingestion!.output().slice(-3000)}\n`,
      );
    return result;
  } finally {
    await database?.close();
    await platform.stop();
  }
}

async function main() {
  const runs = [];
  for (const engine of ENGINES) {
    for (const agents of SIZES) {
      const r = await fleet(engine, agents);
      console.log(JSON.stringify(r));
      runs.push(r);
    }
  }
  console.log(
    `\n${SECONDS} s of steady load after the warm-up, ${SAMPLES_PER_BATCH} samples per batch, one batch per agent ` +
      `every 10 s, ${PUBLISHERS} publisher processes (${ACKS === '0' ? 'core publish, no PubAck' : 'JetStream publish with PubAck'}); load average now ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (2 cores)\n`,
  );
  console.log(
    '| engine | agents | load 1 min (start → end) | warm-up (first batches of all agents committed) | offered samples/s | committed samples/s (window) | published (ack timeouts) | publisher max lateness | missing after drain | lag p50 / p99 / max (due → stored_at) | MiB per million samples | CPU: ingestion / nats-server / publishers |',
  );
  console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|');
  for (const r of runs)
    console.log(
      `| ${r.engine} | ${r.agents} | ${r.loadAverage.map((l) => l.toFixed(1)).join(' → ')} | ${r.warmUpSeconds.toFixed(0)} s | ${Math.round(r.offeredSamplesPerSecond)} | ` +
        `${Math.round(r.committedSamplesPerSecondInWindow)} | ${r.expectedBatches} (${r.publishFailed}) | ${r.publisherMaxLatenessMs} ms | ` +
        `${r.missingAfterDrain} (drain ${r.drainSeconds.toFixed(0)} s) | ${r.lagMs.p50} / ${r.lagMs.p99} / ${r.lagMs.max} ms | ` +
        `${r.mibPerMillionSamples.toFixed(1)} | ${r.cpuPercentOfOneCore.ingestion.toFixed(0)} % / ${r.cpuPercentOfOneCore.natsServer.toFixed(0)} % / ${r.cpuPercentOfOneCore.publishers.toFixed(0)} % |`,
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
