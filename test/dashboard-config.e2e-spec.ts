import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
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
import { AgentProcess, startAgent } from './support/platform-api';

/**
 * Remote configuration in a real Chromium: the environment's config edited in its form, and each agent's
 * config status (applied, failed with the reason) in the agents table and the agent's detail, with a real
 * agent process applying and rejecting what was saved. SQLite only (the storage paths are covered elsewhere).
 */

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'];
const UI_TIMEOUT_MS = 20_000;

requireTool('chromium').describe('remote configuration in the dashboard', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let launcher: RunningLauncher;
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
  /** Reloads until the text shows: the status is read when the page loads. */
  const reloadUntil = (what: string, locator: () => ReturnType<Page['getByTestId']>, text: RegExp) =>
    waitFor(
      what,
      async () => {
        await page.reload();
        const shown = locator();
        await shown.first().waitFor();
        return text.test((await shown.first().textContent()) ?? '');
      },
      UI_TIMEOUT_MS,
      500,
    );

  beforeAll(async () => {
    ensureBuilt();
    nats = await startNatsServer({ secured: true });
    database = await createTestDatabase('sqlite', 'dashboard-config');
    stateDir = mkdtempSync(join(tmpdir(), 'rca-dashboard-config-'));
    launcher = await startLauncher(
      cleanEnv({
        NATS_URL: nats.url,
        NATS_AUTH_DIR: nats.bus!.authority.dir,
        DATA_DIR: database.env.DATA_DIR,
        PORT: '0',
      }),
    );
    baseUrl = launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:');
    agent = startAgent(
      cleanEnv({
        ...agentCommandEnvironment(launcher.banner.agentCommand!),
        RCA_HEARTBEAT_INTERVAL: '1',
        RCA_STATE_DIR: stateDir,
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
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('saves an environment config from its form and shows the agent applied it', () =>
    step(async () => {
      await page.goto(`${baseUrl}/`);
      await page.getByLabel('Organisation API key').fill(launcher.banner.apiKey!);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
      // The agent is listed (enrolled) before its config is changed.
      await page.getByRole('navigation').getByRole('link', { name: 'Agents', exact: true }).click();
      const row = page.locator('tr[data-agent-id]').first();
      await row.waitFor();
      agentId = (await row.getAttribute('data-agent-id'))!;

      await page.getByRole('navigation').getByRole('link', { name: 'Configuration' }).click();
      const form = page.getByRole('form', { name: 'Environment configuration' });
      await form.getByLabel('Labels').fill('bad key=x');
      await form.getByRole('button', { name: 'Save new version' }).click();
      // The API's 400 names the field.
      await page.getByRole('alert').filter({ hasText: 'labels.bad key' }).waitFor();
      await form.getByLabel('Labels').fill('');

      await form.getByLabel('Heartbeat interval (s)').fill('2');
      await form.getByLabel('Log level').selectOption('debug');
      await form.getByRole('button', { name: 'Save new version' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved version 1' }).waitFor();
      await page.getByRole('list', { name: 'Configuration versions' }).getByText('v1').waitFor();

      await page.getByRole('navigation').getByRole('link', { name: 'Agents', exact: true }).click();
      await reloadUntil(
        'the agents table to show the config applied',
        () => page.locator(`tr[data-agent-id="${agentId}"]`).getByTestId('config-status'),
        /^applied v1$/,
      );
    }));

  it('shows a config the agent rejected as failed with its reason, in the table and the agent detail', () =>
    step(async () => {
      await page.getByRole('navigation').getByRole('link', { name: 'Configuration' }).click();
      const form = page.getByRole('form', { name: 'Environment configuration' });
      await form.getByLabel('Collectors').fill('cpu, gpu');
      await form.getByRole('button', { name: 'Save new version' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved version 2' }).waitFor();

      await page.getByRole('navigation').getByRole('link', { name: 'Agents', exact: true }).click();
      await reloadUntil(
        'the agents table to show the rejection',
        () => page.locator(`tr[data-agent-id="${agentId}"]`).getByTestId('config-status'),
        /^failed: unknown collector gpu/,
      );
      await page.locator(`tr[data-agent-id="${agentId}"]`).getByRole('link').first().click();
      const panel = page.getByRole('region', { name: 'Configuration' });
      await panel
        .getByTestId('config-status')
        .filter({ hasText: /^failed: unknown collector gpu/ })
        .waitFor();
      await panel.getByText('(running v1)').waitFor();
      expect(pageErrors).toEqual([]);
    }));
});
