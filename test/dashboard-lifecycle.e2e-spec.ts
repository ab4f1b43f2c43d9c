import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { AgentExitCodes } from '@app/agent-core';
import {
  CHROMIUM_PATH,
  createTestDatabase,
  NatsServerHandle,
  requireTool,
  startNatsServer,
  TestDatabase,
  waitFor,
} from '@app/testing';
import { agentCommandEnvironment, cleanEnv, RunningLauncher, startLauncher } from './support/launcher';
import { AgentProcess, Api, apiClient, startAgent } from './support/platform-api';

/**
 * The lifecycle screens in a real Chromium against `npm start` with two real agents: labels edited on
 * an agent's page (and the list filtered on the new label), then "Revoke all matching" on the agents
 * table: its dialog counts what the filters select, and only the confirmation revokes exactly those.
 */

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'];
const UI_TIMEOUT_MS = 20_000;
const ENVIRONMENT = 'dash-lifecycle';

requireTool('chromium').describe('the lifecycle screens of the dashboard in Chromium', () => {
  let nats: NatsServerHandle;
  let database: TestDatabase;
  let launcher: RunningLauncher;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let api: Api;
  const agents: AgentProcess[] = [];
  const stateDirs: string[] = [];
  const pageErrors: string[] = [];
  let target: { id: string; hostname: string };

  const step = async (run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- page errors ---\n${pageErrors.join('\n')}` +
          `\n--- agents ---\n${agents.map((a) => a.output().slice(-1500)).join('\n---\n')}`,
      );
    }
  };
  const listed = async (query: string) =>
    (
      await api<{ items: { id: string; hostname: string; status: string }[]; total: number }>(
        'GET',
        `/api/v1/agents?environment=${ENVIRONMENT}&${query}`,
      )
    ).body;

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase('sqlite', 'dashboard-lifecycle');
    launcher = await startLauncher(
      cleanEnv({
        NATS_URL: nats.url,
        DATA_DIR: database.env.DATA_DIR,
        PORT: '0',
        HEARTBEAT_INTERVAL_SECONDS: '1',
        DEFAULT_HEARTBEAT_INTERVAL_SECONDS: '1',
      }),
      170_000,
    );
    baseUrl = launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:');
    api = apiClient(baseUrl, launcher.banner.apiKey);
    const provisioned = await api<{ enrollment_token: string }>('POST', '/api/v1/agent/provision', {
      agent_type: 'server',
      environment_name: ENVIRONMENT,
    });
    const agentEnv = {
      ...agentCommandEnvironment(launcher.banner.agentCommand!),
      RCA_TOKEN: provisioned.body.enrollment_token,
    };
    for (let i = 0; i < 2; i++) {
      const stateDir = mkdtempSync(join(tmpdir(), 'rca-dashboard-lifecycle-'));
      stateDirs.push(stateDir);
      agents.push(
        startAgent(cleanEnv({ ...agentEnv, RCA_HEARTBEAT_INTERVAL: '1', RCA_STATE_DIR: stateDir })),
      );
    }
    await waitFor('both agents online', async () => (await listed('status=online')).total === 2, 30_000, 200);
    target = (await listed('status=online')).items[0];
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Organisation API key').fill(launcher.banner.apiKey!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
  }, 240_000);

  afterAll(async () => {
    for (const agent of agents) agent.kill('SIGKILL');
    await browser?.close();
    await launcher?.stop();
    await nats?.dispose();
    await database?.cleanup();
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  });

  it("adds and removes labels on the agent's page; a bad key shows the server's reason at its field", () =>
    step(async () => {
      await page.goto(`${baseUrl}/agents/${target.id}`);
      const form = page.getByRole('form', { name: 'Add a label' });
      await form.getByLabel('Label key').fill('role');
      await form.getByLabel('Label value').fill('db');
      await form.getByRole('button', { name: 'Add label' }).click();
      await page.getByTestId('label').filter({ hasText: 'role=db' }).waitFor();
      await form.getByLabel('Label key').fill('temp');
      await form.getByRole('button', { name: 'Add label' }).click();
      await page.getByTestId('label').filter({ hasText: 'temp=' }).waitFor();
      await page.getByRole('button', { name: 'Remove label temp' }).click();
      await page.getByTestId('label').filter({ hasText: 'temp=' }).waitFor({ state: 'detached' });

      await form.getByLabel('Label key').fill('no spaces');
      await form.getByRole('button', { name: 'Add label' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'Labels not saved.' });
      await alert.waitFor();
      expect(await alert.locator('code').allTextContents()).toEqual(['set.no spaces']);

      const stored = await api<{ labels: Record<string, string> }>('GET', `/api/v1/agents/${target.id}`);
      expect(stored.body.labels).toEqual({ role: 'db' });
      await page.goto(`${baseUrl}/agents?environment=${ENVIRONMENT}&label=role%3Ddb`);
      const rows = page.locator('table.agents tbody tr[data-agent-id]');
      await rows.first().waitFor();
      expect(await rows.count()).toBe(1);
      expect(await rows.first().getAttribute('data-agent-id')).toBe(target.id);
    }));

  it('"Revoke all matching" counts the filtered agents first and revokes exactly those on confirmation', () =>
    step(async () => {
      await page.getByRole('button', { name: 'Revoke all matching…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Revoke every matching agent?' });
      await dialog.waitFor();
      expect(await dialog.getByTestId('bulk-count').textContent()).toMatch(
        /^1 agent match the current filters/,
      );
      // Cancelling changes nothing.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect((await listed('status=online')).total).toBe(2);

      await page.getByRole('button', { name: 'Revoke all matching…' }).click();
      await dialog.getByRole('button', { name: 'Revoke 1 agent' }).click();
      await page.getByTestId('bulk-result').filter({ hasText: 'Revoked 1 of 1 agent.' }).waitFor();
      await page
        .locator(`tr[data-agent-id="${target.id}"]`)
        .getByTestId('agent-status')
        .filter({ hasText: 'revoked' })
        .waitFor();
      expect((await listed('status=revoked')).items.map((a) => a.id)).toEqual([target.id]);
      expect((await listed('status=online')).total).toBe(1);
      const exits = await Promise.all(
        agents.map((agent) =>
          Promise.race([agent.exited(), new Promise((r) => setTimeout(() => r('running'), 5000))]),
        ),
      );
      expect(exits.filter((code) => code === AgentExitCodes.revoked)).toHaveLength(1);
      expect(exits.filter((code) => code === 'running')).toHaveLength(1);
    }));
});
