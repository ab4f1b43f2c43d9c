import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerInfo } from 'dockerode';
import { MetricSample } from '@app/contracts';
import { PartialCollectionError } from '../agent-type';
import { createDockerCollectors } from './docker-collectors';
import { scrapeTargetOfContainer } from './labelled-containers';

/** A container as GET /containers/json lists it (the fields the discovery reads). */
const container = (name: string, labels: Record<string, string>, privatePort?: number): ContainerInfo =>
  ({
    Id: `${name}0123456789abcdef`,
    Names: [`/${name}`],
    State: 'running',
    Labels: labels,
    Ports: privatePort ? [{ PrivatePort: privatePort, Type: 'tcp' }] : [],
    NetworkSettings: { Networks: { bridge: { IPAddress: '127.0.0.1' } } },
  }) as unknown as ContainerInfo;

describe('scraping labelled Docker containers', () => {
  let dir: string;
  let app: Server;
  let engine: Server;
  let appPort: number;
  const listRequests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rca-docker-scrape-'));
    // The containers' application: /metrics answers, anything else fails.
    app = createServer((req, res) =>
      req.url === '/metrics' ? res.end('jobs_done_total 9\n') : res.writeHead(503).end(),
    );
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appPort = (app.address() as AddressInfo).port;
    // A stand-in for the Engine API on a unix socket, answering the (already filtered) container list.
    const listed = [
      container('worker', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(appPort) }),
      container('cron', {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(appPort),
        'prometheus.io/path': '/stats',
      }),
    ];
    engine = createServer((req, res) => {
      if (req.url?.includes('/containers/json')) {
        listRequests.push(decodeURIComponent(req.url));
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listed));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => engine.listen(join(dir, 'docker.sock'), r));
  });
  afterAll(() => {
    app.close();
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the running containers labelled prometheus.io/scrape, tagged with their name, and names the one that fails', async () => {
    const collector = createDockerCollectors(`unix://${join(dir, 'docker.sock')}`, {
      collectIntervalSeconds: 10,
    }).find((c) => c.name === 'scrape:docker-containers')!;
    let samples: MetricSample[] = [];
    let error: string | undefined;
    try {
      samples = await collector.collect();
    } catch (e) {
      if (!(e instanceof PartialCollectionError)) throw e;
      ({ samples, message: error } = e);
    }
    expect(listRequests[0]).toContain('"label":["prometheus.io/scrape=true"]');
    expect(samples.filter((s) => s.name === 'jobs_done_total')).toEqual([
      {
        name: 'jobs_done_total',
        value: 9,
        tags: { source: 'scrape', target: 'worker', container: 'worker' },
      },
    ]);
    expect(error).toBe('1 of 2 containers failed: cron: HTTP 503');
  });

  it('is off unless asked for', () => {
    expect(createDockerCollectors('unix:///nonexistent.sock').map((c) => c.name)).not.toContain(
      'scrape:docker-containers',
    );
  });

  it('uses the first exposed port and /metrics when the labels do not say otherwise, and skips the unlabelled', () => {
    expect(scrapeTargetOfContainer(container('web', { 'prometheus.io/scrape': 'true' }, 8080))?.url).toBe(
      'http://127.0.0.1:8080/metrics',
    );
    expect(scrapeTargetOfContainer(container('db', {}, 5432))).toBeUndefined();
  });
});
