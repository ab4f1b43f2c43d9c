import { Page } from 'playwright-core';
import { requireTool, waitFor } from '@app/testing';
import { openBrowser, pageStep, signIn, TestBrowser, UI_TIMEOUT_MS } from './support/browser';
import { BUILD_TIMEOUT_MS } from './support/launcher';
import { startPlatform, TestPlatform } from './support/platform';
import { AgentProcess } from './support/platform-api';

/**
 * Remote configuration in a real Chromium: the environment's config edited in its form, and each agent's
 * config status (applied, failed with the reason) in the agents table and the agent's detail, with a real
 * agent process applying and rejecting what was saved. SQLite only (the storage paths are covered elsewhere).
 */

requireTool('chromium').describe('remote configuration in the dashboard', () => {
  let platform: TestPlatform;
  let browser: TestBrowser;
  let page: Page;
  let agent: AgentProcess | undefined;
  let agentId: string;

  const step = pageStep(() => browser, {
    agent: () => agent?.output(),
    'npm start': () => platform?.launcher.output(),
  });
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
    platform = await startPlatform({ name: 'dashboard-config' });
    agent = platform.startAgent({ RCA_HEARTBEAT_INTERVAL: '1' });
    browser = await openBrowser();
    page = browser.page;
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('saves an environment config from its form and shows the agent applied it', () =>
    step(async () => {
      await signIn(page, platform.baseUrl, platform.launcher.banner.apiKey!);
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
      expect(browser.pageErrors).toEqual([]);
    }));
});
