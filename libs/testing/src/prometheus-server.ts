import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for';

/** One series of an instant query's answer (`/api/v1/query`, resultType vector). */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/**
 * A real Prometheus (Debian's `prometheus`; gate tests with requireTool('prometheus')) on a loopback
 * port with its remote-write receiver on and a temporary data directory, scraping nothing. `stop()` and
 * `start()` again keep the port and the data, as a receiver outage does.
 */
export class PrometheusServer {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'rca-prometheus-'));
  private process?: ChildProcess;
  private log = '';

  private constructor(readonly port: number) {
    writeFileSync(join(this.dataDir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
  }

  static async start(): Promise<PrometheusServer> {
    const server = new PrometheusServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get remoteWriteUrl(): string {
    return `${this.url}/api/v1/write`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(this.dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dataDir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--web.enable-remote-write-receiver',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-4000)));
    this.process = child;
    await waitFor(
      `Prometheus ready on ${this.port} (log: ${this.log})`,
      async () => (await fetch(`${this.url}/-/ready`).catch(() => undefined))?.ok === true,
      20_000,
    );
  }

  /** Ends the process (SIGTERM: it writes its WAL and exits), keeping port and data for start(). */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Instant query at the current time. */
  async query(promql: string): Promise<PromSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** `promtool check metrics` over an exposition text: the problems it names (empty when clean). */
export function promtoolCheckMetrics(exposition: string): string[] {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
