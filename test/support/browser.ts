import { Browser, chromium, Page } from 'playwright-core';
import { CHROMIUM_PATH } from '@app/testing';
import { failWithOutputs } from './platform';

// Plain JS, shared with scripts/dashboard-screenshots.js, which runs without a TypeScript loader.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { CHROMIUM_FLAGS } = require('../../scripts/chromium-flags') as { CHROMIUM_FLAGS: string[] };
/** How long a page step may wait for what it looks for. */
export const UI_TIMEOUT_MS = 20_000;

/** A real Chromium with one page; the page's uncaught errors are kept for failure messages. */
export interface TestBrowser {
  browser: Browser;
  page: Page;
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  return { browser, page, pageErrors, close: () => browser.close() };
}

/** Signs in to the dashboard with an organisation API key and waits for the fleet overview. */
export async function signIn(page: Page, baseUrl: string, apiKey: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Organisation API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
}

/**
 * Runs one step of a page test: a failure names the page's uncaught errors, then the last lines of each
 * of `outputs` (an agent's log, `npm start`'s).
 */
export function pageStep(
  browser: () => TestBrowser | undefined,
  outputs: Record<string, () => string | undefined>,
): (run: () => Promise<void>) => Promise<void> {
  return (run) =>
    run().catch(failWithOutputs({ 'page errors': () => browser()?.pageErrors.join('\n'), ...outputs }));
}
