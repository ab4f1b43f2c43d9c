/**
 * Samples/s the remote-write sink delivers to a real Prometheus (Debian's `prometheus`, loopback,
 * remote-write receiver on) next to the store sink (SQLite) draining the same backlog, same run.
 *
 *   node -r @swc-node/register -r tsconfig-paths/register bench/remote-write.ts
 *
 * Per sink: a backlog is published with ingestion stopped, then one instance with only that sink
 * drains it; the figure is its rate. Writes bench/results/remote-write-<time>.json.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect, JSONCodec, PubAck } from 'nats';
import { metricsMsgId, Subjects } from '@app/contracts';
import { createTestDatabase, PrometheusServer, startNatsServer } from '@app/testing';
import { IngestionMetrics } from '../apps/ingestion/src/observability/ingestion-metrics';
import {
  ingestionConfig,
  startTestIngestion,
  TestRegistry,
  TestTokenService,
} from '../apps/ingestion/test/ingestion-fixtures';

/** Batches per run and samples in each: ~20 per batch is a server agent's collection. */
const BATCHES = 10_000;
const SAMPLES_PER_BATCH = 20;
const AGENTS = 1_000;
const PUBLISH_WINDOW = 512;
const STALL_MS = 15_000;

const json = JSONCodec<unknown>();
const agentId = (i: number) => `m-${String(i).padStart(5, '0')}`;

type Sink = 'store' | 'remote_write';

async function drain(sink: Sink) {
  const nats = await startNatsServer();
  const receiver = sink === 'remote_write' ? await PrometheusServer.start() : undefined;
  const nc = await connect({ servers: nats.url });
  const tokens = await new TestTokenService(nc).start();
  const registry = await new TestRegistry(nc).start();
  const database = await createTestDatabase('sqlite', 'ingestion');
  const config = ingestionConfig(nats.url, database, {
    METRICS_SINKS: sink,
    ...(receiver ? { REMOTE_WRITE_URL: receiver.remoteWriteUrl } : {}),
  });
  try {
    // First start creates AGENT_METRICS and the sink's consumer; stop so the backlog builds up unconsumed.
    await (await startTestIngestion(config)).close();
    for (let i = 0; i < AGENTS; i++) {
      tokens.issue('bench', agentId(i));
      registry.register('org-1', 'bench', agentId(i), { labels: { team: 'bench' } });
    }
    const start = Date.now() - 60_000;
    let window: Promise<PubAck>[] = [];
    for (let n = 0; n < BATCHES; n++) {
      const id = agentId(n % AGENTS);
      const seq = Math.floor(n / AGENTS);
      const body = {
        agentId: id,
        seq,
        collectedAt: start + seq * 1000,
        samples: Array.from({ length: SAMPLES_PER_BATCH }, (_, i) => ({
          name: `bench.metric_${i}`,
          value: seq + i,
        })),
      };
      window.push(
        nc
          .jetstream()
          .publish(Subjects.metrics('bench', id), json.encode(body), { msgID: metricsMsgId(id, seq) }),
      );
      if (window.length >= PUBLISH_WINDOW) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
    const app = await startTestIngestion(config);
    const metrics = app.get(IngestionMetrics);
    const counter = sink === 'store' ? metrics.samplesStored : metrics.remoteWriteSamples;
    const total = BATCHES * SAMPLES_PER_BATCH;
    const started = process.hrtime.bigint();
    let done = 0;
    let lastGrowth = started;
    while (done < total) {
      const n = await metrics.total(counter);
      if (n !== done) {
        done = n;
        lastGrowth = process.hrtime.bigint();
      } else if (Number(process.hrtime.bigint() - lastGrowth) / 1e6 > STALL_MS) {
        process.stderr.write(`${sink}: stalled at ${done}/${total}\n`);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = Number(lastGrowth - started) / 1e9;
    await app.close();
    // Per metric name: a range function drops the name, so one query over all would clash.
    let inPrometheus: number | undefined;
    if (receiver) {
      inPrometheus = 0;
      for (let i = 0; i < SAMPLES_PER_BATCH; i++)
        inPrometheus += (await receiver.query(`sum(count_over_time(bench_metric_${i}[1h]))`))[0]?.value ?? 0;
    }
    return { sink, samples: done, samplesPerSecond: done / seconds, seconds, inPrometheus };
  } finally {
    tokens.stop();
    registry.stop();
    await nc.close();
    await receiver?.close();
    await database.cleanup();
    await nats.dispose();
  }
}

async function main() {
  const store = await drain('store');
  const remote = await drain('remote_write');
  console.log(
    `\nload average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 cores)`,
  );
  console.log(
    `${BATCHES} batches × ${SAMPLES_PER_BATCH} samples from ${AGENTS} agents, drained by one instance\n`,
  );
  console.log('| sink | samples/s | ratio to store |');
  console.log('|---|---:|---:|');
  console.log(`| store (SQLite) | ${Math.round(store.samplesPerSecond)} | 1.00× |`);
  console.log(
    `| remote_write → Prometheus ${remote.inPrometheus !== undefined ? `(${remote.inPrometheus} samples queried back)` : ''} | ${Math.round(remote.samplesPerSecond)} | ${(remote.samplesPerSecond / store.samplesPerSecond).toFixed(2)}× |`,
  );
  const results = join(__dirname, 'results');
  mkdirSync(results, { recursive: true });
  const file = join(results, `remote-write-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        batches: BATCHES,
        samplesPerBatch: SAMPLES_PER_BATCH,
        agents: AGENTS,
        loadAverage: loadavg(),
        store,
        remote,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${file}`);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
