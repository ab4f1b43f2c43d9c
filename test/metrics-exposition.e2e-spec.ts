import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promtoolCheckMetrics, requireTool } from '@app/testing';
import {
  BUILD_TIMEOUT_MS,
  cleanEnv,
  ensureBuilt,
  REPO_ROOT,
  RunningLauncher,
  startLauncher,
} from './support/launcher';

const prometheus = requireTool('prometheus');
/**
 * The services with their own /metrics and their port's offset from METRICS_PORT_BASE (`npm start` counts
 * tokens too, which serves none).
 */
const SCRAPED = ['provisioning', 'ingestion', 'alerting'];
const PORT_OFFSET: Record<string, number> = { provisioning: 1, ingestion: 2, alerting: 3 };
const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/agent-connector-dashboard.json');
const SCRAPE_CONFIG = join(REPO_ROOT, 'deploy/prometheus/prometheus.yml');

function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Metric names a PromQL expression reads: identifiers followed by `{`, `[` or the end of a selector. */
function metricNames(expr: string): string[] {
  const functionsAndKeywords = new Set([
    'sum',
    'rate',
    'by',
    'histogram_quantile',
    'le',
    'increase',
    'max',
    'min',
    'avg',
    'count',
    'without',
    'irate',
    'job',
    'instance',
    'service',
  ]);
  return [...expr.replace(/"[^"]*"/g, '').matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((name) => !functionsAndKeywords.has(name) && !/^\d/.test(name) && name.includes('_'));
}

prometheus.describe("the platform's own /metrics, as Prometheus scrapes them", () => {
  let running: RunningLauncher | undefined;
  let dataDir: string;
  const exposition = new Map<string, string>();

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'rca-scrape-'));
    // Four consecutive ports from a free one (a collision only fails this run's start).
    const base = await unusedPort();
    running = await startLauncher(
      cleanEnv({
        NATS_URL: `nats://127.0.0.1:${await unusedPort()}`,
        DATA_DIR: dataDir,
        PORT: '0',
        METRICS_PORT_BASE: String(base),
      }),
    );
    for (const service of SCRAPED) {
      const response = await fetch(`http://127.0.0.1:${base + PORT_OFFSET[service]}/metrics`);
      expect(response.status).toBe(200);
      exposition.set(service, await response.text());
    }
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await running?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(SCRAPED)('%s: /metrics passes promtool check metrics', (service) => {
    expect(promtoolCheckMetrics(exposition.get(service)!)).toEqual([]);
  });

  it('the sample scrape config passes promtool check config', () => {
    const result = spawnSync('promtool', ['check', 'config', SCRAPE_CONFIG], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  });

  it('every metric the Grafana dashboard charts is exposed by some service', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exposed = new Set<string>();
    for (const text of exposition.values())
      for (const line of text.split('\n')) {
        const match = /^# TYPE (\S+) (\S+)/.exec(line);
        if (!match) continue;
        exposed.add(match[1]);
        if (match[2] === 'histogram')
          for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(match[1] + suffix);
      }
    const charted = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)));
    expect(charted.length).toBeGreaterThan(5);
    expect(charted.filter((name) => !exposed.has(name))).toEqual([]);
  });
});
