import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { testEngines } from '@app/testing';
import { BUILD_TIMEOUT_MS } from './support/launcher';
import {
  failWithOutputs,
  startPlatform,
  TestPlatform,
  waitForListed,
  waitForSeries,
} from './support/platform';
import { AgentProcess, Api } from './support/platform-api';

/**
 * Application metrics end to end: `npm start`, a real agent process told by RCA_SCRAPE_TARGETS to scrape
 * a prom-client application (and a 10,000-series target, more than one metrics batch) and by RCA_OTLP_ADDRESS
 * to receive OTLP from the OpenTelemetry SDK, and the applications' own metric names read back through the API.
 */

/** Series of the big target: two full metrics batches and more, so its collections are split. */
const BIG_TARGET_SERIES = 10_000;

/** A port free a moment ago, for the agent's OTLP intake (the agent is told the port in its environment). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface ListedAgent {
  id: string;
  status: string;
  health?: { reasons: { component: string }[] } | null;
}
interface Series {
  tags: Record<string, string>;
  points: { last: number; max: number }[];
}

/** An application exposing prom-client metrics on /metrics, and a target that never answers on /hang. */
async function startApplication(): Promise<{ server: Server; url: string }> {
  const registry = new Registry();
  const orders = new Counter({
    name: 'shop_orders_total',
    help: 'Orders placed',
    labelNames: ['payment'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'shop_checkout_seconds',
    help: 'Checkout latency',
    buckets: [0.5],
    registers: [registry],
  });
  orders.inc({ payment: 'card' }, 42);
  latency.observe(0.2);
  const big = new Registry();
  const sessions = new Gauge({
    name: 'app_sessions',
    help: 'Sessions',
    labelNames: ['tenant'],
    registers: [big],
  });
  for (let i = 0; i < BIG_TARGET_SERIES; i++) sessions.set({ tenant: `tenant-${i}` }, i);
  const bigText = await big.metrics();
  const server = createServer((req, res) => {
    if (req.url === '/hang') return; // a target that never answers
    if (req.url === '/big') return void res.writeHead(200, { 'content-type': big.contentType }).end(bigText);
    void registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.each(testEngines())('application metrics scraped by an agent (%s)', (engine) => {
  let platform: TestPlatform;
  let app: Awaited<ReturnType<typeof startApplication>>;
  let api: Api;
  let agent: AgentProcess | undefined;
  let agentId: string;
  let otlpPort: number;
  let started: number;
  const failWithLogs = failWithOutputs({ agent: () => agent?.output() });
  const query = (name: string, tag?: string) =>
    waitForSeries<Series>(api, agentId, name, { from: started - 60_000, tag }).catch(failWithLogs);

  beforeAll(async () => {
    otlpPort = await freePort();
    app = await startApplication();
    platform = await startPlatform({ name: 'appmetrics', engine });
    api = platform.api;
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await platform?.stop();
    app?.server.closeAllConnections();
    app?.server.close();
  });

  it("an application's counter and histogram, scraped by the agent, are queryable by their own names", async () => {
    started = Date.now();
    agent = platform.startAgent({
      RCA_HEARTBEAT_INTERVAL: '1',
      RCA_SCRAPE_TARGETS: JSON.stringify([
        { url: `${app.url}/metrics`, job: 'shop', labels: { team: 'payments' } },
        { url: `${app.url}/hang`, job: 'stuck', timeout: 0.5 },
        { url: `${app.url}/big`, job: 'big', interval: 5, timeout: 4 },
      ]),
      RCA_OTLP_ADDRESS: `127.0.0.1:${otlpPort}`,
    });
    // The hanging target fails every scrape, so the agent is listed degraded, naming that target (fleet health).
    const listed = await waitForListed<ListedAgent, ListedAgent>(
      api,
      'the agent to be listed degraded by its hanging target',
      (agents) => agents.find((a) => a.status === 'degraded'),
      { agent, timeoutMs: 20_000 },
    ).catch(failWithLogs);
    expect(listed.health?.reasons.map((r) => r.component)).toEqual(['collector:scrape:stuck']);
    agentId = listed.id;

    const orders = await query('shop_orders_total');
    expect(orders.tags).toEqual({ source: 'scrape', target: 'shop', team: 'payments', payment: 'card' });
    expect(orders.points.at(-1)!.last).toBe(42);
    const bucket = await query('shop_checkout_seconds_bucket', 'le=0.5');
    expect(bucket.points.at(-1)!.last).toBe(1);
    // Each target's health is stored too: the hanging one is down, the application up.
    expect((await query('scrape.up', 'target=shop')).points.at(-1)!.last).toBe(1);
    expect((await query('scrape.up', 'target=stuck')).points.at(-1)!.last).toBe(0);
    // The agent's own collectors keep reporting beside them.
    expect((await query('system.memory.total')).points.at(-1)!.max).toBeGreaterThan(0);
  });

  it('a 10,000-series target is stored whole: its collections travel as several batches', async () => {
    expect((await query('scrape.series', 'target=big')).points.at(-1)!.last).toBe(BIG_TARGET_SERIES);
    // The first and the last series of the exposition: in the first and the last batch of a collection.
    expect((await query('app_sessions', 'tenant=tenant-0')).points.at(-1)!.last).toBe(0);
    expect((await query('app_sessions', `tenant=tenant-${BIG_TARGET_SERIES - 1}`)).points.at(-1)!.last).toBe(
      BIG_TARGET_SERIES - 1,
    );
  });

  it("an application's OTLP counter, exported by the OpenTelemetry SDK to the agent, is queryable by its name", async () => {
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout' }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${otlpPort}/v1/metrics` }),
          exportIntervalMillis: 3_600_000,
        }),
      ],
    });
    provider.getMeter('checkout').createCounter('checkout_attempts_total').add(7, { outcome: 'paid' });
    await provider.forceFlush();
    const attempts = await query('checkout_attempts_total');
    expect(attempts.tags).toEqual({
      source: 'otlp',
      outcome: 'paid',
      'service.name': 'checkout',
      otel_scope_name: 'checkout',
    });
    expect(attempts.points.at(-1)!.last).toBe(7);
    await provider.shutdown();
  });
});
