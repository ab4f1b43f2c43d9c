import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { INestApplication, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger';
import request from 'supertest';
import { loadConfig } from '@app/config';
import { DomainError, validateDto } from '@app/contracts';
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

interface MediaType {
  schema?: object;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}
type Document = {
  paths: Record<
    string,
    Record<
      string,
      {
        summary?: string;
        security?: unknown[];
        requestBody?: { content?: Record<string, MediaType> };
        responses: Record<string, { content?: Record<string, MediaType> }>;
      }
    >
  >;
};

/** Each route's JSON body: the class the route validates it with, and the examples its document shows. */
function bodyExamples(app: INestApplication): { route: string; type: Type; examples: unknown[] }[] {
  const found: { route: string; type: Type; examples: unknown[] }[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const controller = metatype as Type;
      for (const method of Object.getOwnPropertyNames(controller.prototype)) {
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
          string,
          { index: number }
        >;
        const body = Object.entries(args).find(([key]) => key.startsWith(`${RouteParamtypes.BODY}:`));
        if (!body) continue;
        const types = Reflect.getMetadata('design:paramtypes', controller.prototype, method) as Type[];
        const parameters = (Reflect.getMetadata(
          DECORATORS.API_PARAMETERS,
          controller.prototype[method as keyof object],
        ) ?? []) as { in: string; examples?: Record<string, { value: unknown }> }[];
        const examples = Object.values(parameters.find((p) => p.in === 'body')?.examples ?? {});
        found.push({
          route: `${controller.name}.${method}`,
          type: types[body[1].index],
          examples: examples.map((e) => e.value),
        });
      }
    }
  }
  return found;
}

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

  it('gives every operation a 2xx response with a schema, and every request body a schema with an example', () => {
    const problems: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        operations += 1;
        const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
        // 204 has no body by definition; every other 2xx says what it sends, JSON or not.
        const described = success.some(
          ([status, response]) =>
            status === '204' ||
            (response.content !== undefined &&
              Object.values(response.content).length > 0 &&
              Object.values(response.content).every((media) => media.schema)),
        );
        if (!described) problems.push(`${method} ${path}: no 2xx response with a schema`);
        if (!operation.requestBody) continue;
        const json = operation.requestBody.content?.['application/json'];
        const hasExample =
          json?.example !== undefined ||
          Object.keys(json?.examples ?? {}).length > 0 ||
          (json?.schema as { example?: unknown } | undefined)?.example !== undefined;
        if (!json?.schema) problems.push(`${method} ${path}: request body without a schema`);
        else if (!hasExample) problems.push(`${method} ${path}: request body without an example`);
      }
    }
    expect(problems).toEqual([]);
    expect(operations).toBeGreaterThan(40);
  });

  it("shows request examples that pass the route's own validation", () => {
    const bodies = bodyExamples(gateway);
    expect(bodies.length).toBeGreaterThanOrEqual(12);
    const problems: string[] = [];
    for (const { route, type, examples } of bodies) {
      if (!examples.length) problems.push(`${route}: no example`);
      for (const example of examples) {
        try {
          validateDto(type, example);
        } catch (error) {
          problems.push(`${route}: ${error instanceof DomainError ? JSON.stringify(error.errors) : error}`);
        }
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
    'generates a TypeScript client (openapi-typescript) whose calls to every route and reads of typed responses compile',
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
