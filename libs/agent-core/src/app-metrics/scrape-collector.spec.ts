import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricSample } from '@app/contracts';
import { agentTypes } from '../builtin-agent-types';
import { PartialCollectionError } from '../agent-type';
import { parseScrapeTargets, ScrapeTargetConfig } from './scrape-config';
import { ScrapeCollector } from './scrape-collector';

/** A real application's /metrics (prom-client), plus endpoints that misbehave the ways targets do. */
function startApplication(): Promise<{ server: Server; url: string; requests: IncomingMessage[] }> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests',
    labelNames: ['route', 'code'],
    registers: [registry],
  });
  const queue = new Gauge({ name: 'queue_depth', help: 'Jobs waiting', registers: [registry] });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Latency',
    labelNames: ['route'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  requests.inc({ route: '/a', code: '200' }, 3);
  requests.inc({ route: '/b', code: '500' });
  queue.set(7);
  latency.observe({ route: '/a' }, 0.05);
  latency.observe({ route: '/a' }, 0.5);
  latency.observe({ route: '/b' }, 2);
  const seen: IncomingMessage[] = [];
  const routes: Record<string, (res: ServerResponse) => void | Promise<void>> = {
    '/metrics': async (res) => {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    },
    '/hang': () => undefined, // never answers
    '/slow': (res) => void setTimeout(() => res.end('slow_metric 1\n'), 1200),
    '/garbage': (res) => void res.end('<html><body>Login required</body></html>\n'),
    '/cardinality': (res) =>
      void res.end(Array.from({ length: 300 }, (_, i) => `user_sessions{user="u${i}"} 1`).join('\n')),
    '/huge': (res) => {
      // Streams without end: only the byte cap stops the reader.
      const line = `padding_metric{p="${'x'.repeat(1000)}"} 1\n`;
      const write = () => {
        while (res.write(line));
        res.once('drain', write);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      write();
    },
  };
  const server = createServer((req, res) => {
    seen.push(req);
    const route = routes[req.url ?? ''];
    if (route) void route(res);
    else res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: seen }),
    ),
  );
}

const target = (raw: Record<string, unknown>): ScrapeTargetConfig => parseScrapeTargets([raw], 'test')[0];

/** The samples a scrape yields, whether it succeeded or failed; `error` set when it failed. */
async function scrape(collector: ScrapeCollector): Promise<{ samples: MetricSample[]; error?: string }> {
  try {
    return { samples: await collector.collect() };
  } catch (error) {
    if (!(error instanceof PartialCollectionError)) throw error;
    return { samples: error.samples, error: error.message };
  }
}
const valueOf = (samples: MetricSample[], name: string, tags: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(tags).every(([k, v]) => s.tags?.[k] === v))?.value;

describe(ScrapeCollector.name, () => {
  let app: Awaited<ReturnType<typeof startApplication>>;
  let dir: string;

  beforeAll(async () => {
    app = await startApplication();
    dir = mkdtempSync(join(tmpdir(), 'rca-scrape-'));
  });
  afterAll(async () => {
    app.server.closeAllConnections();
    await new Promise((r) => app.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores a prom-client application's counters, gauges and histograms under their exposed names, tagged with their source", async () => {
    const collector = new ScrapeCollector(
      target({ url: `${app.url}/metrics`, job: 'shop', labels: { team: 'payments' } }),
      10,
    );
    const { samples, error } = await scrape(collector);
    expect(error).toBeUndefined();
    const base = { source: 'scrape', target: 'shop', team: 'payments' };
    expect(samples).toContainEqual({
      name: 'http_requests_total',
      value: 3,
      tags: { ...base, route: '/a', code: '200' },
    });
    expect(valueOf(samples, 'queue_depth')).toBe(7);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { route: '/a', le: '0.1' })).toBe(1);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { route: '/a', le: '+Inf' })).toBe(2);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { route: '/b', le: '1' })).toBe(0);
    expect(valueOf(samples, 'http_request_duration_seconds_sum', { route: '/b' })).toBe(2);
    expect(valueOf(samples, 'http_request_duration_seconds_count', { route: '/a' })).toBe(2);
    const appSeries = samples.filter((s) => !s.name.startsWith('scrape.')).length;
    expect(valueOf(samples, 'scrape.up', { target: 'shop' })).toBe(1);
    expect(valueOf(samples, 'scrape.series', { target: 'shop' })).toBe(appSeries);
    expect(valueOf(samples, 'scrape.duration')).toBeGreaterThanOrEqual(0);
  });

  it('reports its health for the heartbeat: up with its series count, then down with the error', async () => {
    const good = new ScrapeCollector(target({ url: `${app.url}/metrics`, job: 'shop' }), 10);
    expect(good.health()).toEqual([]);
    const { samples } = await scrape(good);
    expect(good.health()).toEqual([
      {
        name: 'scrape:shop',
        up: true,
        lastDurationMs: expect.any(Number),
        series: samples.filter((s) => !s.name.startsWith('scrape.')).length,
        lastRunAt: expect.any(Number),
      },
    ]);
    const bad = new ScrapeCollector(target({ url: `${app.url}/garbage`, job: 'login' }), 10);
    await scrape(bad);
    expect(bad.health()).toEqual([
      expect.objectContaining({
        name: 'scrape:login',
        up: false,
        series: 0,
        lastError: expect.stringMatching(/line 1/),
      }),
    ]);
  });

  it('keeps only the names the allow patterns match and none that a deny pattern matches', async () => {
    const collector = new ScrapeCollector(
      target({ url: `${app.url}/metrics`, allow: ['http_*', 'queue_depth'], deny: ['*_bucket'] }),
      10,
    );
    const names = new Set((await collector.collect()).map((s) => s.name));
    expect([...names].sort()).toEqual([
      'http_request_duration_seconds_count',
      'http_request_duration_seconds_sum',
      'http_requests_total',
      'queue_depth',
      'scrape.duration',
      'scrape.series',
      'scrape.up',
    ]);
  });

  it('gives up on a target that does not answer at its timeout and reports it down', async () => {
    const collector = new ScrapeCollector(target({ url: `${app.url}/hang`, job: 'stuck', timeout: 0.3 }), 10);
    const started = Date.now();
    const { samples, error } = await scrape(collector);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBe('timed out after 300 ms');
    expect(valueOf(samples, 'scrape.up', { target: 'stuck' })).toBe(0);
    expect(samples.filter((s) => !s.name.startsWith('scrape.'))).toEqual([]);
  });

  it('refuses a body that is not an exposition, naming the line', async () => {
    const { samples, error } = await scrape(new ScrapeCollector(target({ url: `${app.url}/garbage` }), 10));
    expect(error).toMatch(/^line 1: invalid metric name: "<html>/);
    expect(valueOf(samples, 'scrape.up')).toBe(0);
  });

  it('fails a scrape whose series explode past max_series rather than storing part of them', async () => {
    const { samples, error } = await scrape(
      new ScrapeCollector(target({ url: `${app.url}/cardinality`, max_series: 100 }), 10),
    );
    expect(error).toBe('more than 100 series (max_series)');
    expect(samples.map((s) => s.name).sort()).toEqual(['scrape.duration', 'scrape.series', 'scrape.up']);
  });

  it('stops reading a body past max_bytes', async () => {
    const { error } = await scrape(
      new ScrapeCollector(target({ url: `${app.url}/huge`, max_bytes: 64 * 1024, timeout: 5 }), 10),
    );
    expect(error).toBe(`body exceeds the limit of ${64 * 1024} bytes`);
  });

  it('reports an HTTP error status and sends the bearer token read from its file', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 's3cret\n');
    const { error } = await scrape(
      new ScrapeCollector(target({ url: `${app.url}/missing`, bearer_token_file: tokenFile }), 10),
    );
    expect(error).toBe('HTTP 404');
    expect(app.requests.at(-1)?.headers.authorization).toBe('Bearer s3cret');
  });

  it('scrapes again only once its interval has passed', async () => {
    let now = 1_000_000;
    const collector = new ScrapeCollector(target({ url: `${app.url}/metrics`, interval: 30 }), 10, () => now);
    expect((await collector.collect()).length).toBeGreaterThan(0);
    now += 10_000;
    expect(await collector.collect()).toEqual([]);
    now += 20_000;
    expect((await collector.collect()).length).toBeGreaterThan(0);
  });

  it('does not hold up a collection for a slow target: its samples come with a later collection', async () => {
    // Collection interval 1 s: a collection waits at most 0.8 s for the scrape it starts.
    const collector = new ScrapeCollector(target({ url: `${app.url}/slow`, job: 'slow', timeout: 5 }), 1);
    const started = Date.now();
    expect(await collector.collect()).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1100);
    await new Promise((r) => setTimeout(r, 700));
    const later = await collector.collect();
    expect(valueOf(later, 'slow_metric', { target: 'slow' })).toBe(1);
    expect(valueOf(later, 'scrape.up', { target: 'slow' })).toBe(1);
  });

  it('leaves the agent healthy: its own collectors and a good target still report beside bad targets', async () => {
    const agent = agentTypes.create(
      'server',
      {
        natsUrl: 'nats://127.0.0.1:1',
        stateDir: dir,
        heartbeatIntervalSeconds: 1,
        collectIntervalSeconds: 1,
        collectorTimeoutMs: 5000,
        logger: pino({ level: 'silent' }),
        // A 10 s scrape interval: one collection waits up to each target's own timeout (not 0.8 s), so a
        // loaded CI machine cannot push a quick target's answer into the next collection.
        pluginCollectors: [
          new ScrapeCollector(target({ url: `${app.url}/metrics`, job: 'shop' }), 10),
          new ScrapeCollector(target({ url: `${app.url}/hang`, job: 'stuck', timeout: 0.5 }), 10),
          new ScrapeCollector(target({ url: `${app.url}/garbage`, job: 'html' }), 10),
          new ScrapeCollector(target({ url: `${app.url}/cardinality`, job: 'users', max_series: 10 }), 10),
        ],
      },
      {},
      { environment: {} },
    );
    const batch = await agent.collectOnce();
    expect(valueOf(batch.samples, 'system.memory.total')).toBeGreaterThan(0);
    expect(valueOf(batch.samples, 'queue_depth', { target: 'shop' })).toBe(7);
    expect(
      Object.fromEntries(
        batch.samples.filter((s) => s.name === 'scrape.up').map((s) => [s.tags!.target, s.value]),
      ),
    ).toEqual({ shop: 1, stuck: 0, html: 0, users: 0 });
    expect(agent.lastCollection?.errors).toEqual([
      { collector: 'scrape:stuck', error: 'timed out after 500 ms' },
      { collector: 'scrape:html', error: expect.stringMatching(/^line 1: invalid metric name/) },
      { collector: 'scrape:users', error: 'more than 10 series (max_series)' },
    ]);
  });
});
