/**
 * Agent footprint: runs a real agent process (server type, 1 s heartbeat and collection interval)
 * against its own secured nats-server and a fake platform intake for 5 minutes (AGENT_FOOTPRINT_MINUTES
 * to change, e.g. 1 for a quick check). Every 30 s (or a sixth of a shorter run) it samples the
 * process RSS, its CPU time (utime + stime from /proc/<pid>/stat) and the bytes the agent published
 * on its heartbeat and metrics subjects (payload + NATS headers, seen by a subscriber on the same
 * server: protocol framing and the JetStream acks it receives are not counted), and prints the series.
 *
 *   node -r @swc-node/register bench/agent-footprint.ts            # runs dist/apps/agent/src/main.js if built
 *   AGENT_FOOTPRINT_SOURCE=1 node -r @swc-node/register bench/agent-footprint.ts   # runs the TypeScript source
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Msg } from 'nats';
import { formatToken, Streams, Subjects } from '@app/contracts';
import { startFakePlatform, startNatsServer } from '@app/testing';
import { cpuSeconds } from './lib/process-sampler';
import { randomBytes } from 'node:crypto';

const MINUTES = Number(process.env.AGENT_FOOTPRINT_MINUTES ?? 5);
const SAMPLE_EVERY_MS = Math.min(30_000, (MINUTES * 60_000) / 6);
const TARGET_MB = 80;
/** Heartbeat and collection interval given to the agent. */
const INTERVAL_SECONDS = 1;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Bytes on the wire for a message's payload and headers (the NATS/1.0 header block as sent). */
function messageBytes(msg: Msg): number {
  const headers = msg.headers as unknown as { encode?: () => Uint8Array } | undefined;
  return msg.data.length + (headers?.encode?.().length ?? 0);
}

interface Traffic {
  heartbeats: number;
  heartbeatBytes: number;
  batches: number;
  batchBytes: number;
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function main() {
  const root = resolve(__dirname, '..');
  const dist = join(root, 'dist/apps/agent/src/main.js');
  const useDist = existsSync(dist) && !process.env.AGENT_FOOTPRINT_SOURCE;
  const args = useDist ? [dist] : ['-r', '@swc-node/register', join(root, 'apps/agent/src/main.ts')];

  const nats = await startNatsServer({ secured: true });
  const platform = await startFakePlatform(nats);
  const traffic: Traffic = { heartbeats: 0, heartbeatBytes: 0, batches: 0, batchBytes: 0 };
  platform.nc.subscribe(Subjects.heartbeatWildcard, {
    callback: (_, msg) => {
      traffic.heartbeats++;
      traffic.heartbeatBytes += messageBytes(msg);
    },
  });
  platform.nc.subscribe(Subjects.metricsWildcard, {
    callback: (_, msg) => {
      traffic.batches++;
      traffic.batchBytes += messageBytes(msg);
    },
  });
  await platform.nc.flush();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      RCA_TOKEN: formatToken('enrollment', randomBytes),
      RCA_NATS_URL: nats.url,
      RCA_PLATFORM_URL: platform.url,
      RCA_CA_FILE: platform.caFile,
      RCA_AGENT_TYPE: 'server',
      RCA_HEARTBEAT_INTERVAL: String(INTERVAL_SECONDS),
      RCA_COLLECT_INTERVAL: String(INTERVAL_SECONDS),
      RCA_STATE_DIR: mkdtempSync(join(tmpdir(), 'rca-agent-bench-')),
      RCA_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(
    `agent pid ${child.pid} (${useDist ? 'dist build' : 'TypeScript source via @swc-node/register'}), ${MINUTES} min at ${INTERVAL_SECONDS} s`,
  );

  const series: {
    seconds: number;
    rssMb: number;
    /** CPU used since the previous point, as % of one core. */
    cpuPercent: number;
    /** CPU ms per metric batch published since the previous point (heartbeats' share included). */
    cpuMsPerCollection: number;
    /** Bytes published (heartbeat + metrics) per interval since the previous point. */
    bytesPerInterval: number;
  }[] = [];
  const started = Date.now();
  let previous = { at: 0, cpu: 0, traffic: { ...traffic } };
  const mark = () => ({ at: Date.now(), cpu: cpuSeconds(child.pid!), traffic: { ...traffic } });
  const sample = () => {
    const now = mark();
    const wall = (now.at - previous.at) / 1000;
    const cpu = now.cpu - previous.cpu;
    const batches = now.traffic.batches - previous.traffic.batches;
    const bytes =
      now.traffic.heartbeatBytes +
      now.traffic.batchBytes -
      previous.traffic.heartbeatBytes -
      previous.traffic.batchBytes;
    const point = {
      seconds: Math.round((now.at - started) / 1000),
      rssMb: rssMb(child.pid!),
      cpuPercent: round((cpu / wall) * 100, 2),
      cpuMsPerCollection: batches ? round((cpu * 1000) / batches, 2) : 0,
      bytesPerInterval: Math.round(bytes / (wall / INTERVAL_SECONDS)),
    };
    previous = now;
    series.push(point);
    console.log(
      `t=${String(point.seconds).padStart(4)} s  RSS ${point.rssMb} MB  CPU ${point.cpuPercent} %  ` +
        `${point.cpuMsPerCollection} ms/collection  ${point.bytesPerInterval} B/interval`,
    );
  };
  // Start-up (module loading, enrollment) is excluded: CPU and traffic count from t = 5 s.
  await new Promise((r) => setTimeout(r, 5000));
  const warm = mark();
  previous = warm;
  series.push({
    seconds: Math.round((warm.at - started) / 1000),
    rssMb: rssMb(child.pid!),
    cpuPercent: 0,
    cpuMsPerCollection: 0,
    bytesPerInterval: 0,
  });
  while (Date.now() - started < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    sample();
  }
  const end = previous;
  const steadySeconds = (end.at - warm.at) / 1000;
  const steadyCpu = end.cpu - warm.cpu;
  const heartbeats = end.traffic.heartbeats - warm.traffic.heartbeats;
  const batches = end.traffic.batches - warm.traffic.batches;
  const heartbeatBytes = end.traffic.heartbeatBytes - warm.traffic.heartbeatBytes;
  const batchBytes = end.traffic.batchBytes - warm.traffic.batchBytes;
  const intervals = steadySeconds / INTERVAL_SECONDS;
  const jsm = await platform.nc.jetstreamManager();
  const stored = (await jsm.streams.info(Streams.metrics)).state.messages;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await platform.close();
  await nats.dispose();

  // Flat = the second half of the run grew by less than 5 % over its first point (warm-up excluded).
  const half = series.slice(Math.floor(series.length / 2));
  const growth = half.length > 1 ? (half[half.length - 1].rssMb - half[0].rssMb) / half[0].rssMb : 0;
  const last = series[series.length - 1].rssMb;
  console.log(
    JSON.stringify(
      {
        series,
        finalRssMb: last,
        maxRssMb: Math.max(...series.map((p) => p.rssMb)),
        secondHalfGrowthPercent: Math.round(growth * 1000) / 10,
        flat: growth < 0.05,
        withinTarget: last <= TARGET_MB,
        heartbeats: platform.heartbeats.length,
        metricsBatchesStored: stored,
        intervalSeconds: INTERVAL_SECONDS,
        steadySeconds: round(steadySeconds),
        cpuPercent: round((steadyCpu / steadySeconds) * 100, 2),
        cpuSecondsTotal: round(end.cpu, 2),
        cpuMsPerCollection: batches ? round((steadyCpu * 1000) / batches, 2) : 0,
        collections: batches,
        heartbeatsSent: heartbeats,
        bytesPerInterval: Math.round((heartbeatBytes + batchBytes) / intervals),
        bytesPerHeartbeat: heartbeats ? Math.round(heartbeatBytes / heartbeats) : 0,
        bytesPerBatch: batches ? Math.round(batchBytes / batches) : 0,
      },
      null,
      2,
    ),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
