import { JetStreamClient, JSONCodec, MsgHdrs } from 'nats';
import { metricsMsgId, Subjects } from '@app/contracts';
import { Database, Engine, openDatabase } from '@app/persistence';
import { IngestionDB } from '../apps/ingestion/src/database';
import { metricsBody } from '../apps/ingestion/test/ingestion-fixtures';
import { issueAgentIdentities } from './lib/agent-fleet';
import { benchConfig } from './lib/bench-config';
import { BenchContext, quantile, Scenario } from './lib/harness';
import { Platform, startPlatform } from './lib/platform';
import { cpuSeconds } from './lib/process-sampler';
import { isBuilt } from './lib/services';

const ENVIRONMENT = 'bench';
const AGENTS = 1_000;
/** Samples per batch: about one server agent's collection. */
const SAMPLES_PER_BATCH = 20;
/** How often the bench looks for newly committed batches: the resolution of every lag figure. */
const POLL_MS = 50;
/** Publishing is paced in ticks this long; each tick publishes what is due by then. */
const TICK_MS = 5;
/**
 * A phase fails when no batch became visible for this long while some were still missing. Longer
 * than ingestion's 30 s ack wait, so a batch JetStream redelivers after a lost delivery still counts
 * (in the max) instead of failing the run.
 */
const STALL_MS = 45_000;

const json = JSONCodec<unknown>();

interface Agent {
  agentId: string;
  subject: string;
  headers: MsgHdrs;
  seq: number;
}

/**
 * The batches published and not yet seen committed, keyed `<agentId>:<seq>` (metric_batches' key),
 * valued with the publish time, which is also the batch's `collectedAt`, hence its samples' `ts`.
 * A Map iterates in insertion order, so its first value is the oldest batch still missing.
 */
type Pending = Map<string, number>;

interface Phase {
  /** Visibility time − sample ts, per batch, as the bench's poller saw it (ms). */
  visible: number[];
  /** metric_batches.stored_at − sample ts (ingestion's clock when it wrote the batch, before commit). */
  stored: number[];
  polls: number;
  pollSpanMs: number;
  published: number;
  publishFailures: number;
  offeredPerSecond: number;
  ingestionCpuPercent: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function publishBatch(js: JetStreamClient, agent: Agent, pending: Pending, onFailure: () => void): void {
  const seq = agent.seq++;
  const ts = Date.now();
  const key = `${agent.agentId}:${seq}`;
  pending.set(key, ts);
  const body = { ...metricsBody(agent.agentId, seq, SAMPLES_PER_BATCH), collectedAt: ts };
  js.publish(agent.subject, json.encode(body), {
    headers: agent.headers,
    msgID: metricsMsgId(agent.agentId, seq),
  }).catch(() => {
    pending.delete(key);
    onFailure();
  });
}

/**
 * Reads metric_batches as an operator's second connection would: every batch stored since the
 * oldest one still missing (stored_at ≥ its publish time, same clock), i.e. only the recent rows.
 */
async function pollOnce(
  database: Database<IngestionDB>,
  pending: Pending,
  visible: number[],
  stored: number[],
): Promise<void> {
  const oldest = pending.values().next().value;
  if (oldest === undefined) return;
  const rows = await database.db
    .selectFrom('metric_batches')
    .select(['agent_id', 'seq', 'stored_at'])
    .where('stored_at', '>=', oldest)
    .execute();
  const seenAt = Date.now();
  for (const row of rows) {
    const key = `${row.agent_id}:${Number(row.seq)}`;
    const ts = pending.get(key);
    if (ts === undefined) continue;
    pending.delete(key);
    visible.push(seenAt - ts);
    stored.push(Number(row.stored_at) - ts);
  }
}

/** How many of the ascending lags are at most `ms`. */
function visibleWithin(sorted: number[], ms: number): number {
  let n = 0;
  while (n < sorted.length && sorted[n] <= ms) n++;
  return n;
}

/** Waits until every pending batch is visible; throws when none became visible for STALL_MS. */
async function drain(database: Database<IngestionDB>, pending: Pending, visible: number[], stored: number[]) {
  let lastProgress = Date.now();
  while (pending.size) {
    const before = pending.size;
    await pollOnce(database, pending, visible, stored);
    if (pending.size < before) lastProgress = Date.now();
    else if (Date.now() - lastProgress > STALL_MS) {
      const [key, ts] = pending.entries().next().value as [string, number];
      const [agentId, seq] = key.split(':');
      const row = await database.db
        .selectFrom('metric_batches')
        .selectAll()
        .where('agent_id', '=', agentId)
        .where('seq', '=', Number(seq))
        .executeTakeFirst();
      throw new Error(
        `${pending.size} metric batches never became visible; oldest ${key} published at ${ts}, row ${JSON.stringify(row)}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Publishes `rate` batches/s round-robin over the agents for `seconds`, polling for commits meanwhile. */
async function phase(
  platform: Platform,
  database: Database<IngestionDB>,
  agents: Agent[],
  rate: number,
  seconds: number,
): Promise<Phase> {
  const js = platform.nc.jetstream();
  const pending: Pending = new Map();
  const visible: number[] = [];
  const stored: number[] = [];
  let publishFailures = 0;
  let publishing = true;
  let polls = 0;
  let pollSpanMs = 0;
  const pollStarted = Date.now();
  const poller = (async () => {
    while (publishing) {
      await pollOnce(database, pending, visible, stored);
      polls++;
      await sleep(POLL_MS);
    }
    pollSpanMs = Date.now() - pollStarted;
  })();

  const ingestionPid = platform.processes.ingestion!.pid;
  const cpuBefore = cpuSeconds(ingestionPid);
  const started = performance.now();
  let published = 0;
  let next = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; published < due; published++) {
      publishBatch(js, agents[next], pending, () => publishFailures++);
      next = (next + 1) % agents.length;
    }
    await sleep(TICK_MS);
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  publishing = false;
  await poller;
  await drain(database, pending, visible, stored);
  const cpu = cpuSeconds(ingestionPid) - cpuBefore;
  const cpuSpan = (Date.now() - pollStarted) / 1000;
  return {
    visible,
    stored,
    polls,
    pollSpanMs,
    published,
    publishFailures,
    offeredPerSecond: published / offeredSeconds,
    ingestionCpuPercent: (cpu / cpuSpan) * 100,
  };
}

async function engineRun(ctx: BenchContext, engine: Engine, rates: number[], seconds: number) {
  const platform = await startPlatform({
    engine,
    services: ['tokens', 'ingestion'],
    env: { ingestion: { LOG_LEVEL: 'warn' } },
  });
  const database = await openDatabase<IngestionDB>({ ...platform.database.options, name: 'ingestion' });
  try {
    const issued = await issueAgentIdentities(platform.rpc, platform.organizationId, ENVIRONMENT, 0, AGENTS);
    // The simulated agents' headers carry the protocol version, as the agent sends it.
    const agents: Agent[] = issued.map((a) => ({
      agentId: a.agentId,
      subject: Subjects.metrics(ENVIRONMENT, a.agentId),
      headers: a.headers,
      seq: 0,
    }));
    // Warm-up, not measured: each agent's first batch costs ingestion a directory lookup.
    const warm: Pending = new Map();
    const js = platform.nc.jetstream();
    let warmFailures = 0;
    for (const agent of agents) publishBatch(js, agent, warm, () => warmFailures++);
    await drain(database, warm, [], []);
    if (warmFailures) throw new Error(`${warmFailures} warm-up publishes failed`);

    for (const rate of rates) {
      const r = await phase(platform, database, agents, rate, seconds);
      const visible = [...r.visible].sort((a, b) => a - b);
      const stored = [...r.stored].sort((a, b) => a - b);
      const label = `${engine} @ ${rate} batches/s (${rate * SAMPLES_PER_BATCH} samples/s)`;
      const resolution = `poll every ${POLL_MS} ms, measured ${(r.pollSpanMs / Math.max(1, r.polls)).toFixed(0)} ms per poll`;
      ctx.log(
        `${label}: offered ${r.offeredPerSecond.toFixed(0)} batches/s, ${r.published} published, ${r.publishFailures} failed, ` +
          `${visible.length} seen; ${resolution}`,
      );
      if (r.publishFailures) throw new Error(`${label}: ${r.publishFailures} JetStream publishes failed`);
      ctx.record(`${label}: lag p50, ts → visible`, 'ms', quantile(visible, 0.5), {
        note: `sample ts = publish time; visible = first poll that saw the batch committed (${resolution})`,
      });
      ctx.record(`${label}: lag p99, ts → visible`, 'ms', quantile(visible, 0.99));
      ctx.record(`${label}: lag max, ts → visible`, 'ms', visible[visible.length - 1]);
      ctx.record(`${label}: batches later than 5 s`, 'count', visible.length - visibleWithin(visible, 5000), {
        note: 'a batch JetStream redelivers after ingestion lost its delivery arrives after the 30 s ack wait',
      });
      ctx.record(`${label}: ts → stored_at p50`, 'ms', quantile(stored, 0.5), {
        note: "ingestion's clock when it wrote the batch (just before the commit); no polling delay",
      });
      ctx.record(`${label}: ts → stored_at p99`, 'ms', quantile(stored, 0.99));
      ctx.record(`${label}: ingestion CPU`, '% of one core', r.ingestionCpuPercent);
    }
  } catch (error) {
    // What ingestion logged (warnings and errors) is the first thing to read when batches go missing.
    const output = platform.processes.ingestion?.output().slice(-4000) ?? '';
    throw new Error(`${String(error)}\n--- ingestion output ---\n${output}`);
  } finally {
    await database.close();
    await platform.stop();
  }
}

export const metricsLag: Scenario = {
  name: 'metrics-lag',
  title: 'Metrics path lag: sample timestamp → committed batch visible, steady load, SQLite and PostgreSQL',
  async run(ctx) {
    for (const s of ['tokens', 'ingestion'] as const) {
      if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
    }
    const config = benchConfig();
    const rates = config.BENCH_LAG_RATES.split(',').map(Number);
    const engines: Engine[] = config.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
    ctx.note(
      `${AGENTS} agents over 1 NATS connection publish ${SAMPLES_PER_BATCH}-sample batches through JetStream at ` +
        `${rates.join(' then ')} batches/s, ${config.BENCH_LAG_SECONDS} s each, each batch's ts = its publish time; ` +
        `a read-only connection polls metric_batches every ${POLL_MS} ms; engines: ${engines.join(', ')}`,
    );
    ctx.note(
      'ingestion and tokens are dist/ child processes; publisher and poller share the bench process; ' +
        'one warm-up batch per agent (directory lookup) is not measured',
    );
    await ctx.repeat(async () => {
      for (const engine of engines) await engineRun(ctx, engine, rates, config.BENCH_LAG_SECONDS);
    });
  },
};
