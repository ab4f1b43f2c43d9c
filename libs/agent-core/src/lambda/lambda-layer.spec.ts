import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureAgentBuilt, requireTool } from '@app/testing';
import { readAgentArtifacts } from '../deployment/agent-artifacts';

const DIST = resolve(__dirname, '..', '..', '..', '..', 'dist', 'agent');
/** A first build of the agent on 2 busy cores (esbuild, and the executable where one is built). */
const BUILD_TIMEOUT_MS = 120_000;

/**
 * The Runtime API as an extension meets it, minimal: registration, the telemetry subscription (recorded),
 * then one INVOKE and a SHUTDOWN on successive event/next calls.
 */
async function fakeRuntimeApi() {
  const calls: string[] = [];
  const events = [
    { eventType: 'INVOKE', requestId: 'r-1' },
    { eventType: 'SHUTDOWN', shutdownReason: 'spindown' },
  ];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      calls.push(`${req.method} ${req.url} ${req.headers['lambda-extension-name'] ?? ''}${body}`.trim());
      const json = (value: object, headers = {}) =>
        res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      if (req.url === '/2020-01-01/extension/register')
        return json(
          { functionName: 'checkout-api', functionVersion: '$LATEST' },
          { 'Lambda-Extension-Identifier': 'ext-1' },
        );
      if (req.url === '/2022-07-01/telemetry') return void res.writeHead(200).end('OK');
      if (req.url === '/2020-01-01/extension/event/next') {
        const event = events.shift();
        return event ? json(event) : undefined;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    runtimeApi: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port free now, for the extension's telemetry listener (the config allows 1024 and up, not 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const unzip = requireTool('unzip');

unzip.describe('the Lambda layer the gateway serves (npm run build:agent)', () => {
  let opt: string;
  beforeAll(() => {
    ensureAgentBuilt();
    opt = mkdtempSync(join(tmpdir(), 'rca-lambda-opt-'));
    const layer = readAgentArtifacts(DIST)!.lambdaLayer!;
    execFileSync('unzip', ['-q', join(DIST, layer.file), '-d', opt]);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => rmSync(opt, { recursive: true, force: true }));

  it('runs as an extension from /opt: registers, subscribes, survives a failed enrollment, and exits 0 on SHUTDOWN', async () => {
    const runtime = await fakeRuntimeApi();
    const state = mkdtempSync(join(tmpdir(), 'rca-lambda-state-'));
    const port = await freePort();
    try {
      const result = await new Promise<{ code: number; output: string }>((resolve) =>
        execFile(
          join(opt, 'extensions', 'rca-agent'),
          [],
          {
            timeout: 30_000,
            env: {
              PATH: process.env.PATH,
              // What Lambda sets; the launcher maps them. The runtime's node is this test's.
              AWS_LAMBDA_RUNTIME_API: runtime.runtimeApi,
              AWS_REGION: 'eu-west-1',
              RCA_NODE: process.execPath,
              RCA_PLATFORM_URL: 'http://127.0.0.1:1',
              RCA_NATS_URL: 'nats://127.0.0.1:1',
              RCA_TELEMETRY_PORT: String(port),
              RCA_STATE_DIR: state,
            },
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
        ),
      );
      expect(runtime.calls[0]).toBe(
        'POST /2020-01-01/extension/register rca-agent{"events":["INVOKE","SHUTDOWN"]}',
      );
      expect(runtime.calls[1]).toMatch(/^PUT \/2022-07-01\/telemetry .*"types":\["platform"\]/);
      expect(runtime.calls.filter((c) => c.startsWith('GET /2020-01-01/extension/event/next'))).toHaveLength(
        2,
      );
      expect(result.output).toContain('the extension keeps running so the function is not affected');
      expect(result.code).toBe(0);
    } finally {
      rmSync(state, { recursive: true, force: true });
      await runtime.close();
    }
  }, 60_000);

  it('says the runtime has no Node.js, instead of failing obscurely, where there is none', () => {
    const bin = mkdtempSync(join(tmpdir(), 'rca-lambda-bin-'));
    try {
      mkdirSync(join(bin, 'only'));
      symlinkSync(
        execFileSync('sh', ['-c', 'command -v dirname'], { encoding: 'utf8' }).trim(),
        join(bin, 'only', 'dirname'),
      );
      let failure: { status?: number; stderr?: Buffer } = {};
      try {
        execFileSync('/bin/sh', [join(opt, 'extensions', 'rca-agent')], {
          env: { PATH: join(bin, 'only') },
          stdio: 'pipe',
        });
      } catch (error) {
        failure = error as typeof failure;
      }
      expect(failure.status).toBe(1);
      expect(String(failure.stderr)).toContain(
        'this runtime has no Node.js; the agent layer needs nodejs20.x or nodejs22.x',
      );
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
