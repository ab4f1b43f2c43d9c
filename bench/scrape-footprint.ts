/**
 * Scrape footprint: what one scrape of a 10,000-series Prometheus target costs the agent, against a
 * 100-series target measured in the same run as the baseline. The agent's own ScrapeCollector (bounded
 * GET, exposition parser, tag shaping) scrapes a local HTTP server serving a pre-rendered prom-client
 * exposition (rendered once, so the server's share of this process's CPU is writing a buffer).
 * Per scrape: wall time, CPU time of this process (process.cpuUsage), and the V8 heap growth while the
 * scrape's samples are alive; RSS at the end. The targets are built directly, past the configured
 * max_series ceiling (5000, one metrics batch): this measures the scrape, not what one batch carries.
 *
 *   node --expose-gc -r @swc-node/register -r tsconfig-paths/register bench/scrape-footprint.ts
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { ScrapeCollector, ScrapeTargetConfig } from '@app/agent-core';

const SCRAPES = Number(process.env.SCRAPE_FOOTPRINT_RUNS ?? 30);
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
  server.close();
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
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
