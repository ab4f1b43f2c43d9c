import { JSONCodec } from 'nats';
import { IngestionStats, metricsMsgId, Subjects } from '@app/contracts';
import { issueAgentIdentities, SimulatedAgent } from './lib/agent-fleet';
import { benchConfig } from './lib/bench-config';
import { BenchContext, Scenario } from './lib/harness';
import { freePort } from './lib/http-load';
import { heartbeat, metricsBatch, SAMPLES_PER_BATCH } from './lib/payloads';
import { startPlatform } from './lib/platform';
import { MiB, rssBytes } from './lib/process-sampler';
import { isBuilt } from './lib/services';

/** The chaos run that found the growth: 20 agents, heartbeat and metrics every second. */
const AGENTS = 20;
const INTERVAL_MS = 1000;
const SAMPLE_EVERY_MS = 15_000;
/** Start-up and the first commits (tables, caches and JIT warming up) are not growth. */
const WARM_UP_MS = 60_000;
const ENVIRONMENT = 'soak';

const json = JSONCodec<unknown>();

interface MemorySample {
  /** seconds since the load started */
  t: number;
  rss: number;
  heapUsed: number;
  external: number;
}

/** Reads one gauge from a Prometheus text page (`name value`, no labels). */
function gauge(page: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(page);
  return match ? Number(match[1]) : NaN;
}

async function memory(pid: number, metricsUrl: string, t: number): Promise<MemorySample> {
  const page = await (await fetch(metricsUrl)).text();
  return {
    t,
    rss: rssBytes(pid),
    heapUsed: gauge(page, 'nodejs_heap_size_used_bytes'),
    external: gauge(page, 'nodejs_external_memory_bytes'),
  };
}

/** Growth from the sample closest to half-time to the last one. */
function secondHalfGrowth(series: MemorySample[], pick: (s: MemorySample) => number): number {
  const last = series[series.length - 1];
  const middle = series.reduce((best, s) =>
    Math.abs(s.t - last.t / 2) < Math.abs(best.t - last.t / 2) ? s : best,
  );
  return pick(last) - pick(middle);
}

/**
 * Ingestion under a small, steady fleet for BENCH_SOAK_MINUTES: does its memory stay flat?
 * RSS comes from /proc, the V8 heap and external memory from ingestion's own /metrics (prom-client
 * default metrics), so native growth (SQLite's page cache, buffers) shows as RSS − heap − external.
 */
export const ingestionSoak: Scenario = {
  name: 'ingestion-soak',
  title: 'Ingestion soak: 20 agents, heartbeat and metrics every second, memory over time',
  async run(ctx: BenchContext) {
    for (const s of ['tokens', 'ingestion'] as const) {
      if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
    }
    const { BENCH_SOAK_MINUTES: minutes, BENCH_SOAK_SQLITE_CACHE_MIB: cacheMib } = benchConfig();
    const metricsPort = await freePort();
    const platform = await startPlatform({
      engine: 'sqlite',
      services: ['tokens', 'ingestion'],
      env: {
        ingestion: {
          METRICS_PORT: String(metricsPort),
          ...(cacheMib ? { SQLITE_CACHE_MIB: String(cacheMib) } : {}),
        },
      },
    });
    const pid = platform.processes.ingestion!.pid;
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    ctx.note(
      `${AGENTS} agents, one heartbeat and one ${SAMPLES_PER_BATCH}-sample metrics batch each per second, ` +
        `${minutes} min, SQLite (page cache: SQLITE_CACHE_MIB=${cacheMib ?? 'default'}); ` +
        `memory sampled every ${SAMPLE_EVERY_MS / 1000} s after a ${WARM_UP_MS / 1000} s warm-up`,
    );
    const js = platform.nc.jetstream();
    let seq = 0;
    let publishFailures = 0;
    try {
      const agents: SimulatedAgent[] = await issueAgentIdentities(
        platform.rpc,
        platform.organizationId,
        ENVIRONMENT,
        0,
        AGENTS,
      );
      const timer = setInterval(() => {
        seq++;
        const now = Date.now();
        for (const agent of agents) {
          platform.nc.publish(
            agent.subject,
            json.encode({ ...heartbeat(agent.agentId, now), intervalSeconds: 1 }),
            {
              headers: agent.headers,
            },
          );
          js.publish(
            Subjects.metrics(agent.environment, agent.agentId),
            json.encode(metricsBatch(agent.agentId, seq, now)),
            { headers: agent.headers, msgID: metricsMsgId(agent.agentId, seq) },
          ).catch(() => publishFailures++);
        }
      }, INTERVAL_MS);
      const series: MemorySample[] = [];
      const started = performance.now();
      try {
        await sleep(WARM_UP_MS);
        const end = started + minutes * 60_000;
        while (performance.now() < end) {
          series.push(await memory(pid, metricsUrl, Math.round((performance.now() - started) / 1000)));
          await sleep(Math.min(SAMPLE_EVERY_MS, Math.max(0, end - performance.now())));
        }
        series.push(await memory(pid, metricsUrl, Math.round((performance.now() - started) / 1000)));
      } finally {
        clearInterval(timer);
      }
      const stats = await platform.rpc.request<IngestionStats>(Subjects.ingestionStats, {});
      const first = series[0];
      const last = series[series.length - 1];
      const native = (s: MemorySample) => s.rss - s.heapUsed - s.external;
      ctx.record(`ingestion RSS after ${WARM_UP_MS / 1000} s`, 'MiB', first.rss / MiB);
      ctx.record('ingestion RSS at the end', 'MiB', last.rss / MiB);
      ctx.record(
        'ingestion RSS growth over the second half',
        'MiB',
        secondHalfGrowth(series, (s) => s.rss) / MiB,
      );
      ctx.record('V8 heap used at the end', 'MiB', last.heapUsed / MiB);
      ctx.record(
        'V8 heap growth over the second half',
        'MiB',
        secondHalfGrowth(series, (s) => s.heapUsed) / MiB,
        {
          note: 'heap used is sampled between collections, so ± a few MiB is noise',
        },
      );
      ctx.record('native (RSS − heap − external) at the end', 'MiB', native(last) / MiB, {
        note: "mostly SQLite's page cache and allocator slack",
      });
      ctx.record('samples stored', 'samples/s', stats.samplesStored / last.t);
      ctx.record('metric batches not published (JetStream refused)', 'count', publishFailures);
      for (const s of series.filter((_, i) => i % 4 === 0 || i === series.length - 1))
        ctx.note(
          `t=${s.t} s: RSS ${(s.rss / MiB).toFixed(1)} MiB, heap ${(s.heapUsed / MiB).toFixed(1)} MiB, ` +
            `external ${(s.external / MiB).toFixed(1)} MiB, native ${(native(s) / MiB).toFixed(1)} MiB`,
        );
    } finally {
      await platform.stop();
    }
  },
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
