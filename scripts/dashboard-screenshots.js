#!/usr/bin/env node
'use strict';
/**
 * Screenshots of the dashboard from a running platform, for the README and docs:
 *
 *   node scripts/dashboard-screenshots.js --url http://localhost:3000 --key rca_ak_… [--out docs/images]
 *
 * Signs in with the API key, captures the fleet overview, the alerts page (rules, channels and their
 * forms) and the audit log, then the detail page of the first online agent (start one with the
 * command `npm start` prints, and give it a minute of data).
 * Needs Chromium (Debian: `apt-get install chromium`; or CHROMIUM_PATH) and playwright-core.
 */
const path = require('node:path');
const fs = require('node:fs');
const { chromium } = require('playwright-core');
const { CHROMIUM_FLAGS } = require('./chromium-flags');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index !== -1 && process.argv[index + 1]) return process.argv[index + 1];
  if (fallback !== undefined) return fallback;
  process.stderr.write(
    `missing --${name}\nusage: node scripts/dashboard-screenshots.js --url <gateway> --key <api key> [--out <dir>]\n`,
  );
  process.exit(2);
}

async function main() {
  const url = option('url').replace(/\/$/, '');
  const key = option('key');
  const out = path.resolve(option('out', path.join(__dirname, '..', 'docs', 'images')));
  fs.mkdirSync(out, { recursive: true });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(20_000);
    await page.goto(`${url}/`);
    await page.getByLabel('Organisation API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Ingestion health' }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: /^Live$/ })
      .waitFor();
    const overview = path.join(out, 'dashboard-overview.png');
    await page.screenshot({ path: overview, fullPage: true });
    process.stdout.write(`${overview}\n`);

    for (const [route, heading, file] of [
      ['/alerts', 'Alerts', 'dashboard-alerts.png'],
      ['/audit', 'Audit log', 'dashboard-audit.png'],
    ]) {
      await page.goto(`${url}${route}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      // The live event stream keeps the network busy: wait for the first table, then let it settle.
      await page.locator('main table').first().waitFor();
      await page.waitForTimeout(500);
      const shot = path.join(out, file);
      await page.screenshot({ path: shot, fullPage: true });
      process.stdout.write(`${shot}\n`);
    }

    await page.goto(`${url}/agents?status=online`);
    const first = page.locator('table.agents tbody tr[data-agent-id] a').first();
    if ((await first.count()) === 0) {
      await first.waitFor({ timeout: 5000 }).catch(() => undefined);
    }
    if ((await first.count()) === 0) {
      process.stderr.write('no online agent: start one (see npm start) to capture the agent detail page\n');
      process.exitCode = 1;
      return;
    }
    await first.click();
    await page.getByRole('heading', { name: 'Metrics' }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    // Charts draw on the next frame after their data arrives.
    await page.waitForTimeout(500);
    const detail = path.join(out, 'dashboard-agent.png');
    await page.screenshot({ path: detail, fullPage: true });
    process.stdout.write(`${detail}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
