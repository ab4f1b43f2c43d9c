import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadConfig } from '@app/config';
import { createTestDatabase, NatsServerHandle, startNatsServer, TestDatabase } from '@app/testing';
import { createGatewayApp } from '../app';
import { GatewayConfig } from '../config';
import { clientCallsSource } from './openapi-client';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');
const BIN = join(ROOT, 'node_modules/.bin');
const LINT_CONFIG = resolve(__dirname, '../../openapi');
/** Lint and tsc each take a few seconds on a busy machine. */
const TOOL_TIMEOUT_MS = 120_000;

type Document = {
  paths: Record<
    string,
    Record<
      string,
      { summary?: string; security?: unknown[]; responses: Record<string, { content?: unknown }> }
    >
  >;
};

describe('the OpenAPI document (/docs-json)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let gateway: INestApplication;
  let dir: string;
  let document: Document;

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase('sqlite', 'openapi');
    gateway = await createGatewayApp(
      loadConfig(GatewayConfig, {
        ...db.env,
        NATS_URL: nats.url,
        LOG_LEVEL: 'silent',
        PORT: '0',
        DEPLOY_DIR: join(ROOT, 'deploy'),
      }),
    );
    await gateway.init();
    document = (await request(gateway.getHttpServer()).get('/docs-json').expect(200)).body as Document;
    dir = mkdtempSync(join(tmpdir(), 'rca-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(document, null, 2));
  });

  afterAll(async () => {
    await gateway?.close();
    await db?.cleanup();
    await nats?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every operation a summary, its security and an error body for each 4xx', () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!operation.summary) problems.push(`${method} ${path}: no summary`);
        if (!operation.security) problems.push(`${method} ${path}: no security`);
        for (const [status, response] of Object.entries(operation.responses))
          if (status.startsWith('4') && !response.content)
            problems.push(`${method} ${path}: ${status} has no body`);
      }
    }
    expect(problems).toEqual([]);
  });

  it(
    'passes `redocly lint` with the recommended rules',
    async () => {
      copyFileSync(join(LINT_CONFIG, 'redocly.yaml'), join(dir, 'redocly.yaml'));
      copyFileSync(join(LINT_CONFIG, '.redocly.lint-ignore.yaml'), join(dir, '.redocly.lint-ignore.yaml'));
      const result = await run(join(BIN, 'redocly'), ['lint', 'openapi.json', '--format=stylish'], {
        cwd: dir,
        timeout: TOOL_TIMEOUT_MS,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      }).catch((failure: { stdout: string; stderr: string; code: number }) => failure);
      const output = `${result.stdout}\n${result.stderr}`;
      expect('code' in result ? result.code : 0).toBe(0);
      expect(output).toContain('Your API description is valid');
      // Warnings do not fail the command, so they fail this test (its Node.js deprecation banner is no finding).
      expect(output).not.toMatch(/You have \d+ warnings?/);
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    'generates a TypeScript client (openapi-typescript) whose calls to every route compile',
    async () => {
      await run(join(BIN, 'openapi-typescript'), [join(dir, 'openapi.json'), '-o', join(dir, 'api.d.ts')], {
        timeout: TOOL_TIMEOUT_MS,
      });
      const { source, operations } = clientCallsSource(document);
      expect(operations).toBeGreaterThan(30);
      writeFileSync(join(dir, 'calls.ts'), source);
      const compiled = await run(
        join(BIN, 'tsc'),
        [
          '--noEmit',
          '--strict',
          '--target',
          'es2022',
          '--module',
          'nodenext',
          '--skipLibCheck',
          join(dir, 'calls.ts'),
        ],
        { timeout: TOOL_TIMEOUT_MS },
      ).catch((failure: { stdout: string }) => failure);
      expect(compiled.stdout).toBe('');
    },
    TOOL_TIMEOUT_MS,
  );
});
