/**
 * Scrape footprint: what one scrape of a 10,000-series Prometheus target costs the agent, against a
 * 100-series target measured in the same run as the baseline. The agent's own ScrapeCollector (bounded
 * GET, exposition parser, tag shaping) scrapes a local HTTP server serving a pre-rendered prom-client
 * exposition (rendered once, so the server's share of this process's CPU is writing a buffer).
 * Per scrape: wall time, CPU time of this process (process.cpuUsage), and the V8 heap growth while the
 * scrape's samples are alive; RSS at the end.
 *
 * Then the agent as customers run it (agentCommand: the built executable or bundle): two agent processes at
 * once against a nats-server and the fake platform, one scraping the 100-series target, one the 10,000-series
 * target, every SCRAPE_FOOTPRINT_INTERVAL seconds (5) for SCRAPE_FOOTPRINT_AGENT_SECONDS (120). Per agent:
 * RSS (end, max), CPU % of one core after a 15 s warm-up, and what reached the metrics stream: batches per
 * collection and the target's samples per collection (the 10,000 must arrive whole, split into batches).
 * SCRAPE_FOOTPRINT_AGENT_SECONDS=0 skips this part.
 *
 *   node --expose-gc -r @swc-node/register -r tsconfig-paths/register bench/scrape-footprint.ts
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { ScrapeCollector, ScrapeTargetConfig } from '@app/agent-core';
import { formatToken, MetricsBatch, Subjects } from '@app/contracts';
import { agentCommand, startFakePlatform, startNatsServer } from '@app/testing';
import { cpuSeconds, rssBytes } from './lib/process-sampler';

const SCRAPES = Number(process.env.SCRAPE_FOOTPRINT_RUNS ?? 30);
const AGENT_SECONDS = Number(process.env.SCRAPE_FOOTPRINT_AGENT_SECONDS ?? 120);
const AGENT_INTERVAL = Number(process.env.SCRAPE_FOOTPRINT_INTERVAL ?? 5);
/** Start-up (module loading, enrollment, the first scrapes) is left out of the CPU figure. */
const AGENT_WARM_UP_MS = 15_000;
const WARM_UP = 3;

async function exposition(series: number): Promise<Buffer> {
  const registry = new Registry();
  const gauge = new Gauge({
    name: 'app_sessions',
    help: 'Sessions',
    labelNames: ['tenant', 'region'],
    registers: [registry],
  });
  for (let i = 0; i < series; i++) gauge.set({ tenant: `tenant-${i}`, region: `r${i % 7}` }, i);
  return Buffer.from(await registry.metrics());
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const gc = (globalThis as { gc?: () => void }).gc;

async function measure(url: string, series: number) {
  const target = Object.assign(new ScrapeTargetConfig(), {
    url,
    job: `bench-${series}`,
    timeout: 30,
    max_series: series,
    max_bytes: 64 * 1024 * 1024,
  });
  const wall: number[] = [];
  const cpu: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < WARM_UP + SCRAPES; i++) {
    const collector = new ScrapeCollector(target, 1);
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const samples = await collector.collect();
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpuBefore);
    const grown = process.memoryUsage().heapUsed - heapBefore;
    if (samples.length !== series + 3)
      throw new Error(`expected ${series + 3} samples, got ${samples.length}`);
    if (i < WARM_UP) continue;
    wall.push(elapsed);
    cpu.push((used.user + used.system) / 1000);
    heap.push(grown / 1024 / 1024);
  }
  return { series, wallMs: median(wall), cpuMs: median(cpu), heapMiB: median(heap) };
}

async function main() {
  const bodies = new Map([
    ['/small', await exposition(100)],
    ['/large', await exposition(10_000)],
  ]);
  const server = createServer((req, res) => res.end(bodies.get(req.url ?? '')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const small = await measure(`${base}/small`, 100);
  const large = await measure(`${base}/large`, 10_000);
  const round = (n: number) => Math.round(n * 100) / 100;
  console.log(
    `scrape footprint: median of ${SCRAPES} scrapes after ${WARM_UP} warm-up, gc ${gc ? 'forced' : 'not exposed'}`,
  );
  console.log(
    `body: 100 series ${bodies.get('/small')!.length} B, 10,000 series ${bodies.get('/large')!.length} B`,
  );
  console.log('| target | wall ms/scrape | CPU ms/scrape | heap growth MiB | ratio (CPU) vs 100 series |');
  console.log('|---|---|---|---|---|');
  for (const r of [small, large])
    console.log(
      `| ${r.series} series | ${round(r.wallMs)} | ${round(r.cpuMs)} | ${round(r.heapMiB)} | ${round(r.cpuMs / small.cpuMs)}× |`,
    );
  console.log(`RSS at end: ${round(process.memoryUsage().rss / 1024 / 1024)} MiB`);
  if (AGENT_SECONDS > 0) await agentsScraping(base);
  server.close();
}

/** Two real agents at once, one per target; their RSS, CPU and what reached the metrics stream. */
async function agentsScraping(base: string) {
  const nats = await startNatsServer({ secured: true });
  const platform = await startFakePlatform(nats);
  const targets = [
    { path: '/small', series: 100 },
    { path: '/large', series: 10_000 },
  ];
  // Per target job: batches and its scraped samples seen on the metrics subjects, by collection time.
  const seen = new Map(
    targets.map((t) => [`bench-${t.series}`, new Map<number, { batches: number; samples: number }>()]),
  );
  const jobOf = new Map<string, string>();
  platform.nc.subscribe(Subjects.metricsWildcard, {
    callback: (_, msg) => {
      const batch = JSON.parse(Buffer.from(msg.data).toString('utf8')) as MetricsBatch;
      const samples = batch.samples.filter((s) => s.name === 'app_sessions');
      if (samples.length) jobOf.set(batch.agentId, samples[0].tags!.target);
      const job = jobOf.get(batch.agentId);
      if (!job) return;
      const collection = seen.get(job)!.get(batch.collectedAt) ?? { batches: 0, samples: 0 };
      collection.batches++;
      collection.samples += samples.length;
      seen.get(job)!.set(batch.collectedAt, collection);
    },
  });
  await platform.nc.flush();
  const { command, args, kind } = agentCommand();
  const agents = targets.map((t) =>
    spawn(command, args, {
      env: {
        PATH: process.env.PATH,
        RCA_TOKEN: formatToken('enrollment', randomBytes),
        RCA_NATS_URL: nats.url,
        RCA_PLATFORM_URL: platform.url,
        RCA_CA_FILE: platform.caFile,
        RCA_AGENT_TYPE: 'server',
        RCA_HEARTBEAT_INTERVAL: String(AGENT_INTERVAL),
        RCA_STATE_DIR: mkdtempSync(join(tmpdir(), 'rca-scrape-bench-')),
        RCA_LOG_LEVEL: 'warn',
        RCA_SCRAPE_TARGETS: JSON.stringify([
          { url: `${base}${t.path}`, job: `bench-${t.series}`, timeout: 4 },
        ]),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const rss = agents.map(() => [] as number[]);
  const sampleRss = () => agents.forEach((a, i) => rss[i].push(rssBytes(a.pid!) / 1024 / 1024));
  const ticker = setInterval(sampleRss, 1000);
  await new Promise((r) => setTimeout(r, AGENT_WARM_UP_MS));
  const cpuStart = agents.map((a) => cpuSeconds(a.pid!));
  const started = Date.now();
  await new Promise((r) => setTimeout(r, AGENT_SECONDS * 1000));
  const cpu = agents.map((a, i) => (cpuSeconds(a.pid!) - cpuStart[i]) / ((Date.now() - started) / 1000));
  sampleRss();
  clearInterval(ticker);
  for (const a of agents) a.kill('SIGTERM');
  await Promise.all(agents.map((a) => new Promise((r) => a.once('exit', r))));
  await platform.close();
  await nats.dispose();

  const round = (n: number) => Math.round(n * 10) / 10;
  console.log(
    `\nagents (${kind}) scraping at ${AGENT_INTERVAL} s, ${AGENT_SECONDS} s measured after ${AGENT_WARM_UP_MS / 1000} s warm-up, both at once:`,
  );
  console.log(
    '| target | RSS end MiB | RSS max MiB | CPU % of a core | collections seen | batches/collection | target samples/collection (min–max) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  targets.forEach((t, i) => {
    const collections = [...seen.get(`bench-${t.series}`)!.values()];
    const counts = collections.map((c) => c.samples);
    const batches = collections.map((c) => c.batches);
    console.log(
      `| ${t.series} series | ${round(rss[i][rss[i].length - 1])} | ${round(Math.max(...rss[i]))} | ${round(cpu[i] * 100)} | ` +
        `${collections.length} | ${Math.min(...batches)}–${Math.max(...batches)} | ${Math.min(...counts)}–${Math.max(...counts)} |`,
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
