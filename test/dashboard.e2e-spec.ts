import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Page } from 'playwright-core';
import { parse } from 'shell-quote';
import { ALERT_SIGNATURE_HEADER, verifyWebhook } from '@app/contracts';
import { requireTool, waitFor } from '@app/testing';
import { openBrowser, pageStep, TestBrowser } from './support/browser';
import { cleanEnv } from './support/launcher';
import { startPlatform, TestPlatform } from './support/platform';
import { AgentProcess, Api, startAgent } from './support/platform-api';

/**
 * The dashboard in a real Chromium against the platform started by `npm start`: sign-in, the
 * overview, the add-agent wizard with a real agent started from the command it shows, the live
 * agents table, the agent's charts, and the signed webhook notification when the agent dies. SQLite only: the storage paths are the platform
 * suite's concern; this one is about what a browser sees.
 */

/** Where the screenshots go (overview and agent detail), for a person to look at. */
const SCREENSHOT_DIR = process.env.DASHBOARD_SCREENSHOT_DIR ?? tmpdir();

/** Heartbeats every second, offline after 3 missed: the default 3 × 10 s, scaled down. */
const HEARTBEAT_SECONDS = 1;
const LIVENESS_ENV = {
  HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  DEFAULT_HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
  LIVENESS_MISSED_HEARTBEATS: '3',
  LAST_SEEN_FLUSH_SECONDS: '0.25',
};
/** After the first notification, how long the receiver keeps listening for a duplicate. */
const DUPLICATE_WATCH_MS = 3000;
const ENVIRONMENT = 'dash-e2e';
/** Loopback port 1: nothing listens there, so a webhook to it is refused (ECONNREFUSED) at once. */
const REFUSING_URL = 'http://127.0.0.1:1/hook';

/** Install-script options → the variables it writes to the agent's environment file (deploy/install/install.sh). */
const INSTALL_FLAGS: Record<string, string> = {
  '--nats-url': 'RCA_NATS_URL',
  '--platform-url': 'RCA_PLATFORM_URL',
  '--log-level': 'RCA_LOG_LEVEL',
  '--ca-pin': 'RCA_CA_PIN',
  '--environment': 'RCA_ENVIRONMENT',
  '--labels': 'RCA_LABELS',
};
/** Options install.sh checks the download against; nothing of them reaches the agent's environment. */
const INSTALL_PINS = new Set(['--bundle-sha256', '--binary-sha256']);

/**
 * The agent environment the wizard's Linux command would install:
 * `(… curl … -o "$f" && printf '%s\n' <token> | sudo sh "$f" --token-file - --flag value …)` parsed as a shell
 * would, the piped token and each option mapped the way install.sh maps them. Throws on anything else.
 */
function agentEnvFromInstallCommand(command: string): Record<string, string> {
  const words = parse(command).map((word) => (typeof word === 'string' ? word : JSON.stringify(word)));
  const printf = words.indexOf('printf');
  const sudo = words.indexOf('sudo');
  if (
    printf === -1 ||
    words[sudo + 1] !== 'sh' ||
    words[sudo + 3] !== '--token-file' ||
    words[sudo + 4] !== '-'
  )
    throw new Error(`not an install.sh command: ${command}`);
  const env: Record<string, string> = { RCA_AGENT_TYPE: 'server', RCA_TOKEN: words[printf + 2] };
  const end = words.lastIndexOf(JSON.stringify({ op: ')' }));
  for (let i = sudo + 5; i < end; i += 2) {
    if (INSTALL_PINS.has(words[i]) && /^[0-9a-f]{64}$/.test(words[i + 1] ?? '')) continue;
    const variable = INSTALL_FLAGS[words[i]];
    if (!variable || i + 1 >= end) throw new Error(`unexpected install option ${words[i]} in: ${command}`);
    env[variable] = words[i + 1];
  }
  return env;
}

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The customer's webhook endpoint: records every POST and answers 204. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/hook`, received };
}

requireTool('chromium').describe('the dashboard in Chromium', () => {
  let platform: TestPlatform;
  let browser: TestBrowser;
  let page: Page;
  let baseUrl: string;
  let api: Api;
  let agent: AgentProcess | undefined;
  let enrollmentToken: string;
  let installCommand: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let channelSecret: string;

  const step = pageStep(() => browser, {
    agent: () => agent?.output(),
    'npm start': () => platform?.launcher.output(),
  });

  beforeAll(async () => {
    platform = await startPlatform({
      name: 'dashboard',
      secured: false,
      env: {
        ...LIVENESS_ENV,
        // The test's webhook receiver is on loopback, which webhooks may not reach by default.
        ALERT_WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      },
      bannerTimeoutMs: 170_000,
    });
    ({ baseUrl, api } = platform);
    receiver = await startReceiver();
    browser = await openBrowser();
    page = browser.page;
  }, 240_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await browser?.close();
    receiver?.server.close();
    await platform?.stop();
  });

  it('refuses a bad API key and shows the API’s reason', () =>
    step(async () => {
      await page.goto(`${baseUrl}/`);
      await page.getByLabel('Organisation API key').fill('rca_ak_thisIsNotARealKey0000000000');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const reason = await page.locator('#signin-error').textContent();
      expect(reason).toMatch(/^(TOKEN_[A-Z_]+|UNAUTHENTICATED): \S/);
      // Browser globals are strings here: this file is compiled for Node, not the DOM.
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
    }));

  it('signs in with the bootstrap key and shows the fleet overview', () =>
    step(async () => {
      await page.getByLabel('Organisation API key').fill(platform.launcher.banner.apiKey!);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
      await page
        .getByRole('status')
        .filter({ hasText: /^Live$/ })
        .waitFor();
      // The launcher provisioned the "dev" environment; the overview counts it.
      await page
        .getByRole('table')
        .filter({ hasText: 'By environment' })
        .getByRole('link', { name: 'dev' })
        .waitFor();
      await page.getByRole('heading', { name: 'Ingestion health' }).waitFor();
    }));

  it('creates a webhook channel and an offline rule in the UI, with the server’s reasons at the fields', () =>
    step(async () => {
      await page.getByRole('link', { name: 'Alerts' }).click();
      await page.getByRole('button', { name: 'New channel' }).click();
      const channelForm = page.getByRole('form', { name: 'New channel' });
      await channelForm.getByLabel('Name', { exact: true }).fill('e2e receiver');
      await channelForm.getByLabel('URL', { exact: true }).fill('not a url');
      await channelForm.getByRole('button', { name: 'Create channel' }).click();
      expect(await page.getByTestId('channel-new-url-error').textContent()).toBe(
        'url must be an http(s) URL',
      );
      await channelForm.getByLabel('URL', { exact: true }).fill(receiver.url);
      await channelForm.getByRole('button', { name: 'Create channel' }).click();
      channelSecret = (await page.getByTestId('channel-secret-value').textContent())!.trim();
      expect(channelSecret).toMatch(/^rca_whs_/);
      await page.getByRole('button', { name: 'I have stored it' }).click();

      // A second channel nobody listens on: its deliveries fail, and the log says why.
      await page.getByRole('button', { name: 'New channel' }).click();
      await channelForm.getByLabel('Name', { exact: true }).fill('e2e refused');
      await channelForm.getByLabel('URL', { exact: true }).fill(REFUSING_URL);
      await channelForm.getByRole('button', { name: 'Create channel' }).click();
      await page.getByTestId('channel-secret').waitFor();
      await page.getByRole('button', { name: 'I have stored it' }).click();
      await page.locator('li[data-channel-id]').filter({ hasText: 'e2e refused' }).waitFor();
      expect(await page.locator('main').textContent()).not.toContain(channelSecret);

      await page.getByRole('button', { name: 'New rule' }).click();
      const ruleForm = page.getByRole('form', { name: 'New rule' });
      await ruleForm.getByLabel('Name', { exact: true }).fill('dashboard e2e agent offline');
      await ruleForm.getByLabel('Environment (optional)').fill(ENVIRONMENT);
      await ruleForm.getByLabel('e2e receiver').check();
      await ruleForm.getByLabel('e2e refused').check();
      await ruleForm.getByRole('button', { name: 'Create rule' }).click();
      expect(await page.getByTestId('rule-new-offline_seconds-error').textContent()).toBe('required');
      await ruleForm.getByLabel('Offline for (seconds)').fill('1');
      await ruleForm.getByRole('button', { name: 'Create rule' }).click();
      await page
        .locator('li[data-rule-id]')
        .filter({ hasText: 'dashboard e2e agent offline' })
        .filter({ hasText: 'e2e refused' })
        .waitFor();
    }));

  it('renders the wizard form from the type’s schema and reports invalid values at the field', () =>
    step(async () => {
      const types = (await api<{ type: string; config: { name: string }[] }[]>('GET', '/api/v1/agent/types'))
        .body;
      const server = types.find((t) => t.type === 'server')!;
      await page.getByRole('link', { name: 'Add agent' }).click();
      await page.getByTestId('type-server').click();
      for (const field of server.config) {
        await page.locator(`#field-${field.name}`).waitFor();
      }
      await page.locator('#field-environment_name').fill('Not Valid');
      await page.getByRole('button', { name: 'Create install command' }).click();
      await page.locator('#error-environment_name').waitFor();
      expect(await page.locator('#field-environment_name').getAttribute('aria-invalid')).toBe('true');

      await page.locator('#field-environment_name').fill(ENVIRONMENT);
      await page.getByRole('button', { name: 'Create install command' }).click();
      // The server type has a command per OS; the Linux one is what this host can run.
      await page.getByRole('tab', { name: /Linux/ }).click();
      await page.getByTestId('install-command').waitFor();
      enrollmentToken = (await page.getByTestId('enrollment-token').textContent())!.trim();
      expect(enrollmentToken).toMatch(/^rca_et_/);
      installCommand = (await page.getByTestId('install-command').textContent())!.trim();
      expect(installCommand).toContain(enrollmentToken);
    }));

  it('keeps the command and its one-time token across a reload in the middle of the wizard', () =>
    step(async () => {
      await page.reload();
      await page.getByRole('tab', { name: /Linux/ }).click();
      expect((await page.getByTestId('enrollment-token').textContent())!.trim()).toBe(enrollmentToken);
      expect((await page.getByTestId('install-command').textContent())!.trim()).toBe(installCommand);
      // The launcher's URLs are loopback: the wizard says what that means for where the command can run.
      expect(await page.getByTestId('command-warnings').textContent()).toContain(
        'PUBLIC_URL and AGENT_NATS_URL',
      );
    }));

  it('confirms "agent connected" and "data received" when an agent runs with the command’s values', () =>
    step(async () => {
      const agentEnv = agentEnvFromInstallCommand(installCommand);
      expect(agentEnv.RCA_TOKEN).toBe(enrollmentToken);
      // Only the command's values (not the banner's agent command): what a customer pasting it would run.
      agent = startAgent(
        cleanEnv({
          ...agentEnv,
          RCA_HEARTBEAT_INTERVAL: String(HEARTBEAT_SECONDS),
          RCA_STATE_DIR: platform.dirs.make('rca-dashboard-agent-'),
        }),
      );
      await page
        .getByTestId('step-connected')
        .filter({ hasText: 'Agent connected' })
        .waitFor({ timeout: 30_000 });
      await page.getByTestId('step-data').filter({ hasText: 'Data received' }).waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-wizard.png'), fullPage: true });
    }));

  it('lists the agent online and draws its metrics on the detail page', () =>
    step(async () => {
      await page.goto(`${baseUrl}/agents?environment=${ENVIRONMENT}`);
      const row = page.locator('table.agents tbody tr[data-agent-id]');
      await row.first().waitFor();
      expect(await row.count()).toBe(1);
      await row.getByTestId('agent-status').filter({ hasText: 'online' }).waitFor();

      await row.getByRole('link').click();
      await page.getByRole('heading', { name: 'Metrics', exact: true }).waitFor();
      await page.locator('.chart canvas').first().waitFor();
      // An info metric (always 1, the tags are the facts) is neither drawn nor offered as a chart.
      const offered = await page.getByLabel('Add a chart').locator('option').allTextContents();
      expect(offered.join('\n')).toContain('system.uptime');
      expect(offered.join('\n')).not.toContain('system.os.info');
      expect(await page.locator('figure.chart figcaption').allTextContents()).not.toContain('system.os.info');
      const counts = await page.getByTestId('chart-points').allTextContents();
      expect(counts.some((text) => Number(/(\d+) points?/.exec(text)?.[1] ?? 0) > 0)).toBe(true);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-agent.png'), fullPage: true });

      await page.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('link', { name: 'online agents' }).filter({ hasText: '1' }).waitFor();
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-overview.png'), fullPage: true });
    }));

  it('shows the agent offline in the open table, without a reload, after it is killed', () =>
    step(async () => {
      await page.getByRole('link', { name: 'Agents', exact: true }).first().click();
      const row = page.locator('table.agents tbody tr[data-agent-id]').first();
      await row.getByTestId('agent-status').filter({ hasText: 'online' }).waitFor();
      // A marker on window survives only if the page is never reloaded.
      await page.evaluate('window.marker = 42');
      agent!.kill('SIGKILL');
      await row.getByTestId('agent-status').filter({ hasText: 'offline' }).waitFor({ timeout: 30_000 });
      expect(await page.evaluate('window.marker')).toBe(42);
    }));

  it('sends exactly one signed offline notification, and lists the alert as firing', () =>
    step(async () => {
      const agentId = await page
        .locator('table.agents tbody tr[data-agent-id]')
        .first()
        .getAttribute('data-agent-id');
      await waitFor('the offline notification', () => receiver.received.length > 0, 30_000);
      await new Promise((resolve) => setTimeout(resolve, DUPLICATE_WATCH_MS));
      expect(receiver.received).toHaveLength(1);
      const [notification] = receiver.received;
      const signature = String(notification.headers[ALERT_SIGNATURE_HEADER.toLowerCase()]);
      expect(verifyWebhook(channelSecret, signature, notification.body)).toMatchObject({ ok: true });
      const body = JSON.parse(notification.body) as {
        transition: string;
        alert: { agent_id: string; kind: string };
      };
      expect(body).toMatchObject({
        transition: 'firing',
        alert: { agent_id: agentId, kind: 'agent_offline' },
      });

      await page.getByRole('link', { name: 'Alerts' }).click();
      await page
        .locator('tbody tr')
        .filter({ hasText: 'dashboard e2e agent offline' })
        .filter({ hasText: 'firing' })
        .waitFor();
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-alerts.png'), fullPage: true });
      await page.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('heading', { name: /^Firing alerts: 1/ }).waitFor();
    }));

  it('acknowledges the firing alert by hand; the refused channel’s delivery log shows the failure and its reason', () =>
    step(async () => {
      const row = page.locator('tbody tr').filter({ hasText: 'dashboard e2e agent offline' }).first();
      await page.getByRole('link', { name: 'Alerts' }).click();
      await row.getByRole('button', { name: 'Acknowledge' }).click();
      await row.getByTestId('acknowledged').waitFor();

      const refused = page.locator('li[data-channel-id]').filter({ hasText: 'e2e refused' });
      await refused.getByRole('button', { name: 'Delivery log' }).click();
      // The log refreshes itself while open; the first attempt fails at once, retries follow.
      const failure = refused
        .getByTestId('delivery-log')
        .locator('li[data-status]')
        .filter({ hasText: 'firing' })
        .filter({ hasText: /ECONNREFUSED/ });
      await failure.waitFor({ timeout: 30_000 });
      expect(await failure.textContent()).toMatch(
        /^(pending|failed) firing, \d+ attempts? .*ECONNREFUSED 127\.0\.0\.1:1/,
      );

      const broken = await api<{ id: string }>('POST', '/api/v1/alerts/channels', {
        name: 'e2e typo',
        type: 'webhook',
        url: 'https://no-such-host.invalid/hook',
      });
      expect(broken.status).toBe(201);
      await page.reload();
      const channel = page.locator(`li[data-channel-id="${broken.body.id}"]`);
      await channel.getByRole('button', { name: 'Send test' }).click();
      const result = await channel.getByTestId('channel-test-result').textContent();
      expect(result).toMatch(/^Test failed: .*(ENOTFOUND|EAI_AGAIN)/);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-alerts.png'), fullPage: true });

      await channel.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete channel' }).click();
      await channel.waitFor({ state: 'detached' });
    }));

  it('reads the audit log: actors by key name, details as fields, a prefix filter, targets linked', () =>
    step(async () => {
      await page.goto(`${baseUrl}/audit`);
      await page.getByLabel('Action').selectOption({ label: 'All agent actions' });
      const enrolled = page.locator('tbody tr[data-action="agent.enrolled"]');
      await enrolled.first().waitFor();
      const actions = await page.locator('tbody tr[data-action]').evaluateAll(
        // Runs in the page; typed loosely because this file is compiled without the DOM library.
        (rows: { getAttribute(name: string): string | null }[]) =>
          rows.map((r) => r.getAttribute('data-action')),
      );
      expect(actions.every((a) => a!.startsWith('agent.'))).toBe(true);

      const provisioned = page.locator('tbody tr[data-action="agent.provisioned"]').first();
      expect(await provisioned.getByTestId('audit-actor').textContent()).toBe('initial key (API key)');
      expect(await provisioned.locator('dl.audit-details dt').allTextContents()).toEqual(
        expect.arrayContaining(['agent type', 'config']),
      );
      expect(await page.locator('tbody').textContent()).not.toContain('{"');

      const agentId = await page
        .locator('tbody tr[data-action="agent.enrolled"] a[href^="/agents/"]')
        .first()
        .textContent();
      await enrolled.first().getByRole('link').click();
      await page.getByRole('heading', { name: 'Metrics', exact: true }).waitFor();
      expect(page.url()).toContain(`/agents/${agentId!.replace(/^agent /, '').trim()}`);
    }));

  it('rotates a token only after a confirmation that offers the grace period, actions aligned in the row', () =>
    step(async () => {
      await page.goto(`${baseUrl}/tokens?environment=${ENVIRONMENT}`);
      const row = page.locator('tbody tr').filter({ hasText: 'active' }).first();
      await row.getByRole('button', { name: /^Rotate/ }).click();
      const dialog = page.getByRole('dialog', { name: 'Rotate this enrollment token?' });
      await dialog.getByLabel('The old secret keeps working').selectOption({ label: 'for 1 hour' });
      await dialog.getByRole('button', { name: 'Rotate token' }).click();
      const secret = (await page.getByTestId('token-secret').textContent())!.trim();
      expect(secret).toMatch(/^rca_et_/);
      expect(secret).not.toBe(enrollmentToken);
      await page
        .locator('tbody tr')
        .filter({ hasText: 'rotated' })
        .filter({ hasText: 'valid until' })
        .waitFor();
      expect(await page.evaluate("getComputedStyle(document.querySelector('td.cell-actions')).display")).toBe(
        'table-cell',
      );
    }));

  it('fits the overview and the agents table into a 390 px wide phone screen', () =>
    step(async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const path of ['/', `/agents?environment=${ENVIRONMENT}`, '/alerts']) {
        await page.goto(`${baseUrl}${path}`);
        await page.locator('main h1').first().waitFor();
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      }
      await page.setViewportSize({ width: 1280, height: 900 });
    }));

  it('renders the ssh form from its schema, refuses a target that is not user@host at the field, and shows its command', () =>
    step(async () => {
      await page.goto(`${baseUrl}/`);
      await page.getByRole('link', { name: 'Add agent' }).click();
      const another = page.getByRole('button', { name: 'Add another agent' });
      if (await another.isVisible()) await another.click();
      await page.getByTestId('type-ssh').click();
      for (const field of [
        'targets',
        'private_key_path',
        'known_hosts_path',
        'host_key_fingerprints',
        'ssh_timeout_seconds',
      ])
        await page.locator(`#field-${field}`).waitFor();
      await page.locator('#field-environment_name').fill(ENVIRONMENT);
      await page.locator('#field-targets').fill('web-1; rm -rf /');
      await page.getByRole('button', { name: 'Create install command' }).click();
      expect(await page.locator('#error-targets').textContent()).toContain('user@host');
      await page.locator('#field-targets').fill('ops@10.0.0.5,ops@db-1:2222');
      await page.getByRole('button', { name: 'Create install command' }).click();
      const command = (await page.getByTestId('install-command').textContent())!;
      expect(command).toContain('-e RCA_TARGETS=ops@10.0.0.5,ops@db-1:2222');
      expect(command).toContain('-e RCA_AGENT_TYPE=ssh');
      await page.getByRole('button', { name: 'Done' }).click();
    }));

  it('renders the nomad form from its schema and shows the job submission with its steps', () =>
    step(async () => {
      await page.getByRole('link', { name: 'Add agent' }).click();
      const another = page.getByRole('button', { name: 'Add another agent' });
      if (await another.isVisible()) await another.click();
      await page.getByTestId('type-nomad').click();
      for (const field of ['nomad_namespace', 'job_name', 'datacenters', 'nomad_addr', 'nomad_token_file'])
        await page.locator(`#field-${field}`).waitFor();
      await page.locator('#field-environment_name').fill(ENVIRONMENT);
      await page.locator('#field-job_name').fill('rca agent');
      await page.getByRole('button', { name: 'Create install command' }).click();
      expect(await page.locator('#error-job_name').textContent()).toContain('letters, digits');
      await page.locator('#field-job_name').fill('rca-agent-eu');
      await page.getByRole('button', { name: 'Create install command' }).click();
      const command = (await page.getByTestId('install-command').textContent())!;
      expect(command).toContain('| nomad job run -json -');
      expect(command).toContain('"ID": "rca-agent-eu"');
      await page.getByText('nomad var put').first().waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
    }));

  it('renders the aci form from its schema and shows the az container create command with its steps', () =>
    step(async () => {
      await page.goto(`${baseUrl}/`);
      await page.getByRole('link', { name: 'Add agent' }).click();
      const another = page.getByRole('button', { name: 'Add another agent' });
      if (await another.isVisible()) await another.click();
      await page.getByTestId('type-aci').click();
      for (const field of ['resource_group', 'container_group', 'location', 'cgroup_root'])
        await page.locator(`#field-${field}`).waitFor();
      await page.locator('#field-environment_name').fill(ENVIRONMENT);
      await page.locator('#field-container_group').fill('Shop_Web');
      await page.getByRole('button', { name: 'Create install command' }).click();
      expect(await page.locator('#error-container_group').textContent()).toContain('lowercase letters');
      await page.locator('#field-container_group').fill('shop-web');
      await page.getByRole('button', { name: 'Create install command' }).click();
      const command = (await page.getByTestId('install-command').textContent())!;
      expect(command).toContain('az container create --resource-group rca-agents --file rca-agent-aci.yaml');
      expect(command).toContain('"name": "shop-web"');
      await page.getByText('az container delete').first().waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
    }));

  it('renders the lambda form from its schema and shows the aws lambda commands with their steps', () =>
    step(async () => {
      await page.goto(`${baseUrl}/`);
      await page.getByRole('link', { name: 'Add agent' }).click();
      const another = page.getByRole('button', { name: 'Add another agent' });
      if (await another.isVisible()) await another.click();
      await page.getByTestId('type-lambda').click();
      for (const field of [
        'function_name',
        'region',
        'layer_arn',
        'layer_name',
        'telemetry_port',
        'runtime_api',
      ])
        await page.locator(`#field-${field}`).waitFor();
      await page.locator('#field-environment_name').fill(ENVIRONMENT);
      await page.locator('#field-function_name').fill('checkout api');
      await page.getByRole('button', { name: 'Create install command' }).click();
      expect(await page.locator('#error-function_name').textContent()).toContain('Lambda function name');
      await page.locator('#field-function_name').fill('checkout-api');
      await page.getByRole('button', { name: 'Create install command' }).click();
      const command = (await page.getByTestId('install-command').textContent())!;
      expect(command).toContain('aws lambda publish-layer-version --layer-name rca-agent');
      expect(command).toContain('aws lambda update-function-configuration --function-name checkout-api');
      await page.getByText("replaces the function's layers and environment variables").first().waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
    }));

  it('renders the cloud-run form from its schema and shows the gcloud run services replace command with its steps', () =>
    step(async () => {
      await page.goto(`${baseUrl}/`);
      await page.getByRole('link', { name: 'Add agent' }).click();
      const another = page.getByRole('button', { name: 'Add another agent' });
      if (await another.isVisible()) await another.click();
      await page.getByTestId('type-cloud-run').click();
      for (const field of [
        'service',
        'region',
        'project',
        'app_image',
        'app_port',
        'metadata_url',
        'cgroup_root',
      ])
        await page.locator(`#field-${field}`).waitFor();
      await page.locator('#field-environment_name').fill(ENVIRONMENT);
      await page.locator('#field-service').fill('Checkout');
      await page.getByRole('button', { name: 'Create install command' }).click();
      expect(await page.locator('#error-service').textContent()).toContain('Cloud Run service name');
      await page.locator('#field-service').fill('checkout');
      await page.getByRole('button', { name: 'Create install command' }).click();
      const command = (await page.getByTestId('install-command').textContent())!;
      expect(command).toContain('gcloud run services replace rca-agent-cloud-run.yaml --region europe-west1');
      expect(command).toContain('"name": "rca-agent"');
      await page.getByText('services replace replaces the whole service').first().waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
    }));
});
