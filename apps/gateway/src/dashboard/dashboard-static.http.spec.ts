import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { NatsModule } from '@app/messaging';
import { NatsServerHandle, startNatsServer } from '@app/testing';
import { AuthModule } from '../auth/auth.module';
import { DomainErrorFilter } from '../http/domain-error.filter';
import { DashboardModule } from './dashboard.module';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so the path reaches the server exactly as written (fetch would normalise `..`). */
function get(baseUrl: string, path: string, accept = '*/*', method = 'GET'): Promise<Reply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method, headers: { Accept: accept } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const HTML = 'text/html,application/xhtml+xml';

describe('the dashboard served at /', () => {
  let nats: NatsServerHandle;
  let built: string;
  let empty: string;
  const apps: INestApplication[] = [];

  const serve = async (directory: string) => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        NatsModule.forRoot({ url: nats.url, name: 'dashboard-test', requestTimeoutMs: 2000 }),
        AuthModule,
        DashboardModule.forRoot({ directory }),
      ],
      providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    return app.getUrl();
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    built = mkdtempSync(join(tmpdir(), 'dashboard-built-'));
    mkdirSync(join(built, 'assets'));
    writeFileSync(join(built, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(built, 'assets', 'index-abc123.js'), 'console.log(1)');
    empty = mkdtempSync(join(tmpdir(), 'dashboard-empty-'));
    writeFileSync(join(tmpdir(), 'dashboard-secret.txt'), 'TOP-SECRET-CONTENT');
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await nats?.dispose();
    rmSync(built, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it('serves index.html at / and for client-side routes a browser navigates to, with a CSP', async () => {
    const baseUrl = await serve(built);
    for (const path of ['/', '/agents/ag_123', '/add-agent?x=1']) {
      const reply = await get(baseUrl, path, HTML);
      expect([path, reply.status, reply.body]).toEqual([path, 200, '<!doctype html><title>app</title>']);
      expect(reply.headers['content-security-policy']).toContain("default-src 'self'");
      expect(reply.headers['cache-control']).toBe('no-cache');
    }
    const head = await get(baseUrl, '/', HTML, 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('serves hashed assets as immutable, and a missing asset is a 404, not the app', async () => {
    const baseUrl = await serve(built);
    const asset = await get(baseUrl, '/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get(baseUrl, '/assets/gone.js', HTML)).status).toBe(404);
  });

  it('never answers for the API, docs, health, install scripts, charts or metrics', async () => {
    const baseUrl = await serve(built);
    for (const path of [
      '/api/v1/nothing',
      '/docs',
      '/health',
      '/install.sh',
      '/install.ps1',
      '/charts/x',
      '/metrics',
    ]) {
      const reply = await get(baseUrl, path, HTML);
      expect([path, reply.status, reply.body.includes('<title>app</title>')]).toEqual([path, 404, false]);
    }
    // …and the API behind it still answers as itself: the guard's 401, not index.html.
    const summary = await get(baseUrl, '/api/v1/fleet/summary', HTML);
    expect(summary.status).toBe(401);
  });

  it('does not serve files outside its directory', async () => {
    const baseUrl = await serve(built);
    for (const path of [
      '/..%2fdashboard-secret.txt',
      '/%2e%2e/dashboard-secret.txt',
      '/assets/..%2f..%2fdashboard-secret.txt',
    ]) {
      const reply = await get(baseUrl, path, '*/*');
      expect([path, reply.status, reply.body.includes('TOP-SECRET-CONTENT')]).toEqual([path, 404, false]);
    }
  });

  it('says how to build the dashboard when it has not been built', async () => {
    const baseUrl = await serve(empty);
    const reply = await get(baseUrl, '/', HTML);
    expect(reply.status).toBe(404);
    expect(reply.body).toContain('npm run build:dashboard');
    expect((await get(baseUrl, '/api/v1/nothing', HTML)).body).not.toContain('npm run build:dashboard');
  });
});
