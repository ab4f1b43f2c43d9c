import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { Counter, Registry } from 'prom-client';
import {
  CHROMIUM_PATH,
  createTestDatabase,
  NatsServerHandle,
  requireTool,
  startNatsServer,
  TestDatabase,
  waitFor,
} from '@app/testing';
import {
  agentCommandEnvironment,
  BUILD_TIMEOUT_MS,
  cleanEnv,
  ensureBuilt,
  RunningLauncher,
  startLauncher,
} from './support/launcher';
import { AgentProcess, Api, apiClient, startAgent } from './support/platform-api';

/**
 * Application metrics configured through remote configuration: a real agent process started with its own
 * scrape target (RCA_SCRAPE_TARGETS), given others by an environment config (validated at save), applying
 * them and returning to its own without a restart, beside two in-process plugins from RCA_PLUGIN_DIR (one
 * that throws); each source's health in the API and, in a real Chromium, on the agent's page. SQLite only (the storage paths are covered elsewhere).
 */

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'];
const UI_TIMEOUT_MS = 20_000;

interface SourceHealth {
  name: string;
  up: boolean;
  last_error?: string;
  last_duration_ms: number;
  series: number;
  last_run_at: number;
}

/** A prom-client application on /metrics, and a target that never answers on /hang. */
async function startApplication(): Promise<{ server: Server; url: string }> {
  const registry = new Registry();
  new Counter({ name: 'shop_orders_total', help: 'Orders', registers: [registry] }).inc(42);
  const server = createServer((req, res) => {
    if (req.url === '/hang') return;
    void registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

requireTool('chromium').describe('application metrics configured remotely, shown per agent', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let launcher: RunningLauncher;
  let app: Awaited<ReturnType<typeof startApplication>>;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let stateDir: string;
  let agent: AgentProcess | undefined;
  let agentId: string;
  const pageErrors: string[] = [];

  const step = async (run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- page errors ---\n${pageErrors.join('\n')}` +
          `\n--- agent ---\n${agent?.output().slice(-3000) ?? ''}\n--- npm start ---\n${launcher?.output().slice(-3000)}`,
      );
    }
  };
  const sources = async (): Promise<SourceHealth[]> => {
    const response = await api<{ health?: { sources?: SourceHealth[] } | null }>(
      'GET',
      `/api/v1/agents/${agentId}`,
    );
    return response.body.health?.sources ?? [];
  };
  /** Waits until the agent reports exactly these sources (by name, in order). */
  const reportsSources = (names: string[], ready: (s: SourceHealth[]) => boolean = () => true) =>
    waitFor(
      `the agent to report sources ${names.join(', ')}`,
      async () => {
        if (agent?.exitCode() !== undefined) throw new Error(`agent exited with ${agent?.exitCode()}`);
        const now = await sources();
        return JSON.stringify(now.map((s) => s.name)) === JSON.stringify(names) && ready(now)
          ? now
          : undefined;
      },
      UI_TIMEOUT_MS,
      250,
    );
  const saveConfig = (body: object) =>
    api<{ version: number; errors?: { field: string }[] }>('PUT', '/api/v1/environments/dev/config', body);

  beforeAll(async () => {
    ensureBuilt();
    nats = await startNatsServer({ secured: true });
    database = await createTestDatabase('sqlite', 'dashboard-app-metrics');
    stateDir = mkdtempSync(join(tmpdir(), 'rca-dashboard-appmetrics-'));
    const pluginDir = join(stateDir, 'plugins');
    mkdirSync(pluginDir);
    chmodSync(pluginDir, 0o755);
    writeFileSync(
      join(pluginDir, 'good.js'),
      "module.exports = { name: 'good', async collect() { return [{ name: 'good_value', value: 3 }]; } };",
      { mode: 0o644 },
    );
    writeFileSync(
      join(pluginDir, 'broken.mjs'),
      "export default { name: 'broken', async collect() { throw new Error('backend unreachable'); } };",
      { mode: 0o644 },
    );
    app = await startApplication();
    launcher = await startLauncher(
      cleanEnv({
        NATS_URL: nats.url,
        NATS_AUTH_DIR: nats.bus!.authority.dir,
        DATA_DIR: database.env.DATA_DIR,
        PORT: '0',
      }),
    );
    baseUrl = launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:');
    api = apiClient(baseUrl, launcher.banner.apiKey);
    agent = startAgent(
      cleanEnv({
        ...agentCommandEnvironment(launcher.banner.agentCommand!),
        RCA_HEARTBEAT_INTERVAL: '1',
        RCA_STATE_DIR: stateDir,
        RCA_SCRAPE_TARGETS: JSON.stringify([{ url: `${app.url}/metrics`, job: 'own' }]),
        RCA_PLUGIN_DIR: join(stateDir, 'plugins'),
      }),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(UI_TIMEOUT_MS);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await browser?.close();
    await launcher?.stop();
    await nats?.dispose();
    await database?.cleanup();
    app?.server.closeAllConnections();
    app?.server.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('refuses invalid app_metrics at save with a 400 naming each field', () =>
    step(async () => {
      const response = await saveConfig({
        app_metrics: { scrape_targets: [{ url: 'ftp://shop' }], statsd: { address: 'nowhere:70000' } },
      });
      expect(response.status).toBe(400);
      expect(response.body.errors?.map((e) => e.field)).toEqual([
        'app_metrics.scrape_targets[0].url',
        'app_metrics.statsd.address',
      ]);
    }));

  it("replaces the agent's own targets with the configured ones, live, and reports each one's health", () =>
    step(async () => {
      const online = await waitFor(
        'the agent to be listed',
        async () =>
          (await api<{ items: { id: string }[] }>('GET', '/api/v1/agents')).body.items?.find(Boolean),
        30_000,
        200,
      );
      agentId = online.id;
      const [own, broken, good] = await reportsSources(
        ['scrape:own', 'plugin:broken', 'plugin:good'],
        ([s]) => s.up,
      );
      expect(own.series).toBeGreaterThan(0);
      // In-process plugins run in the built agent: a throwing one is down with its error, the other up.
      expect(broken).toMatchObject({ up: false, series: 0, last_error: 'backend unreachable' });
      expect(good).toMatchObject({ up: true, series: 1 });
      const pid = agent!.pid;

      const saved = await saveConfig({
        app_metrics: {
          scrape_targets: [
            { url: `${app.url}/metrics`, job: 'shop' },
            { url: `${app.url}/hang`, job: 'stuck', timeout: 0.5 },
          ],
        },
      });
      expect(saved.status).toBe(200);
      const [shop, stuck] = await reportsSources(
        ['scrape:shop', 'scrape:stuck', 'plugin:broken', 'plugin:good'],
        ([, s]) => !!s.last_error,
      );
      expect(shop).toMatchObject({ up: true, series: own.series });
      expect(shop.last_error).toBeUndefined();
      expect(stuck).toMatchObject({ up: false, series: 0, last_error: 'timed out after 500 ms' });
      expect(agent!.exitCode()).toBeUndefined();
      expect(agent!.pid).toBe(pid);
    }));

  it("shows each source's health in an agent page section", () =>
    step(async () => {
      await page.goto(`${baseUrl}/`);
      await page.getByLabel('Organisation API key').fill(launcher.banner.apiKey!);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
      await page.goto(`${baseUrl}/agents/${agentId}`);
      const table = page
        .getByRole('region', { name: 'Application metrics sources' })
        .getByRole('table', { name: 'Sources' });
      const shop = table.locator('tr[data-source="scrape:shop"]');
      const stuck = table.locator('tr[data-source="scrape:stuck"]');
      await shop.getByTestId('source-state').filter({ hasText: /^up$/ }).waitFor();
      expect(Number(await shop.getByTestId('source-series').textContent())).toBeGreaterThan(0);
      await stuck
        .getByTestId('source-state')
        .filter({ hasText: /^down$/ })
        .waitFor();
      await stuck.getByTestId('source-error').filter({ hasText: 'timed out after 500 ms' }).waitFor();
      await table
        .locator('tr[data-source="plugin:broken"]')
        .getByTestId('source-error')
        .filter({ hasText: 'backend unreachable' })
        .waitFor();
      expect(pageErrors).toEqual([]);
    }));

  it('shows the saved sections in the configuration form, and the server’s reason for a bad one at its field', () =>
    step(async () => {
      await page.getByRole('navigation').getByRole('link', { name: 'Configuration' }).click();
      const form = page.getByRole('form', { name: 'Environment configuration' });
      const sections = form.getByLabel('Application metrics (JSON)');
      await waitFor(
        'the saved sections in the form',
        async () => (await sections.inputValue()).includes('"stuck"'),
        UI_TIMEOUT_MS,
        200,
      );
      await sections.fill('{"scrape_targets": [{"url": "ftp://shop"}]}');
      await form.getByRole('button', { name: 'Save new version' }).click();
      await page.getByRole('alert').filter({ hasText: 'app_metrics.scrape_targets[0].url' }).waitFor();
      await sections.fill('{"scrape_targets": [');
      await form.getByRole('button', { name: 'Save new version' }).click();
      await page.getByRole('alert').filter({ hasText: 'Application metrics: not valid JSON' }).waitFor();
      expect(pageErrors).toEqual([]);
    }));

  it('returns to its own target once the config no longer sets scrape_targets', () =>
    step(async () => {
      expect((await saveConfig({ log_level: 'info' })).status).toBe(200);
      await reportsSources(['scrape:own', 'plugin:broken', 'plugin:good'], ([s]) => s.up);
      expect(agent!.exitCode()).toBeUndefined();
    }));
});
