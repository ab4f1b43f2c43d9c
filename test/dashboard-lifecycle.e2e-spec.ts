import { Page } from 'playwright-core';
import { AgentExitCodes } from '@app/agent-core';
import { requireTool } from '@app/testing';
import { openBrowser, pageStep, signIn, TestBrowser } from './support/browser';
import { startPlatform, TestPlatform, waitForListed } from './support/platform';
import { AgentProcess, Api } from './support/platform-api';

/**
 * The lifecycle screens in a real Chromium against `npm start` with two real agents: labels edited on
 * an agent's page (and the list filtered on the new label), then "Revoke all matching" on the agents
 * table: its dialog counts what the filters select, and only the confirmation revokes exactly those.
 */

const ENVIRONMENT = 'dash-lifecycle';

requireTool('chromium').describe('the lifecycle screens of the dashboard in Chromium', () => {
  let platform: TestPlatform;
  let browser: TestBrowser;
  let page: Page;
  let baseUrl: string;
  let api: Api;
  const agents: AgentProcess[] = [];
  let target: { id: string; hostname: string };

  const step = pageStep(() => browser, {
    agents: () => agents.map((a) => a.output().slice(-1500)).join('\n---\n'),
  });
  const listed = async (query: string) =>
    (
      await api<{ items: { id: string; hostname: string; status: string }[]; total: number }>(
        'GET',
        `/api/v1/agents?environment=${ENVIRONMENT}&${query}`,
      )
    ).body;

  beforeAll(async () => {
    platform = await startPlatform({
      name: 'dashboard-lifecycle',
      secured: false,
      env: { HEARTBEAT_INTERVAL_SECONDS: '1', DEFAULT_HEARTBEAT_INTERVAL_SECONDS: '1' },
      bannerTimeoutMs: 170_000,
    });
    ({ baseUrl, api } = platform);
    const token = await platform.provision('server', ENVIRONMENT);
    for (let i = 0; i < 2; i++)
      agents.push(platform.startAgent({ RCA_TOKEN: token, RCA_HEARTBEAT_INTERVAL: '1' }));
    await waitForListed(api, 'both agents online', (online) => online.length === 2, {
      query: `environment=${ENVIRONMENT}&status=online`,
    });
    target = (await listed('status=online')).items[0];
    browser = await openBrowser();
    page = browser.page;
    await signIn(page, baseUrl, platform.launcher.banner.apiKey!);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
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
