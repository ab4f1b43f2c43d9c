/**
 * Agent memory footprint: runs a real agent process (server type, 1 s heartbeat and collection
 * interval) against its own nats-server and a fake enrollment responder, samples the process RSS
 * every 30 s for 5 minutes (AGENT_FOOTPRINT_MINUTES to change) and prints the series.
 *
 *   node -r @swc-node/register bench/agent-footprint.ts            # runs dist/apps/agent/src/main.js if built
 *   AGENT_FOOTPRINT_SOURCE=1 node -r @swc-node/register bench/agent-footprint.ts   # runs the TypeScript source
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatToken, Streams } from '@app/contracts';
import { startNatsServer } from '@app/testing';
import { startFakePlatform } from '../libs/agent-core/src/testing/fake-platform';
import { randomBytes } from 'node:crypto';

const MINUTES = Number(process.env.AGENT_FOOTPRINT_MINUTES ?? 5);
const SAMPLE_EVERY_MS = 30_000;
const TARGET_MB = 80;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

async function main() {
  const root = resolve(__dirname, '..');
  const dist = join(root, 'dist/apps/agent/src/main.js');
  const useDist = existsSync(dist) && !process.env.AGENT_FOOTPRINT_SOURCE;
  const args = useDist ? [dist] : ['-r', '@swc-node/register', join(root, 'apps/agent/src/main.ts')];

  const nats = await startNatsServer();
  const platform = await startFakePlatform(nats.url);
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      RCA_TOKEN: formatToken('enrollment', randomBytes),
      RCA_NATS_URL: nats.url,
      RCA_AGENT_TYPE: 'server',
      RCA_HEARTBEAT_INTERVAL: '1',
      RCA_COLLECT_INTERVAL: '1',
      RCA_STATE_DIR: mkdtempSync(join(tmpdir(), 'rca-agent-bench-')),
      RCA_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(
    `agent pid ${child.pid} (${useDist ? 'dist build' : 'TypeScript source via @swc-node/register'}), ${MINUTES} min at 1 s`,
  );

  const series: { seconds: number; rssMb: number }[] = [];
  const started = Date.now();
  const sample = () => {
    const point = { seconds: Math.round((Date.now() - started) / 1000), rssMb: rssMb(child.pid!) };
    series.push(point);
    console.log(`t=${String(point.seconds).padStart(4)} s  RSS ${point.rssMb} MB`);
  };
  await new Promise((r) => setTimeout(r, 5000));
  sample();
  while (Date.now() - started < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    sample();
  }
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
