import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JSONCodec } from 'nats';
import { formatToken, MetricsBatch, Streams } from '@app/contracts';
import {
  ensureAgentBuilt,
  FakePlatform,
  NatsServerHandle,
  requireTool,
  startFakePlatform,
  startNatsServer,
  waitFor,
} from '@app/testing';
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

/**
 * A Runtime API whose n-th event/next answer is decided by `next(n, destination)`: it may wait for the
 * platform and POST telemetry first, as Lambda holds an extension there until something happens.
 */
async function scriptedRuntimeApi(
  next: (n: number, post: (events: unknown[]) => Promise<void>) => Promise<object>,
) {
  let destination = '';
  let served = 0;
  // Lambda resolves sandbox.localdomain to the environment; here that is this machine.
  const post = async (events: unknown[]) => {
    const response = await fetch(destination.replace('sandbox.localdomain', '127.0.0.1'), {
      method: 'POST',
      body: JSON.stringify(events),
    });
    if (response.status !== 200) throw new Error(`telemetry refused: ${response.status}`);
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const json = (value: object, headers = {}) =>
        res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      if (req.url === '/2020-01-01/extension/register')
        return json(
          { functionName: 'checkout-api', functionVersion: '$LATEST', accountId: '123456789012' },
          { 'Lambda-Extension-Identifier': 'ext-1' },
        );
      if (req.url === '/2022-07-01/telemetry') {
        destination = JSON.parse(body).destination.URI;
        return void res.writeHead(200).end('OK');
      }
      if (req.url === '/2020-01-01/extension/event/next') return json(await next(served++, post));
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    runtimeApi: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const json = JSONCodec<MetricsBatch>();
async function storedSamples(platform: FakePlatform) {
  const jsm = await platform.nc.jetstreamManager();
  const { state } = await jsm.streams.info(Streams.metrics);
  const samples: MetricsBatch['samples'] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++)
    samples.push(...json.decode((await jsm.streams.getMessage(Streams.metrics, { seq })).data).samples);
  return samples;
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

  describe('against a platform', () => {
    let nats: NatsServerHandle;
    let platform: FakePlatform;
    beforeAll(async () => {
      nats = await startNatsServer({ secured: true });
      platform = await startFakePlatform(nats);
    });
    afterAll(async () => {
      await platform?.close();
      await nats?.dispose();
    });

    it('enrolls the environment as a host named after the function and sends the invocations it saw', async () => {
      const telemetry = (
        JSON.parse(
          readFileSync(join(__dirname, 'testdata', 'cold_start', 'telemetry.json'), 'utf8'),
        ) as unknown[][]
      ).flat();
      const runtime = await scriptedRuntimeApi(async (n, post) => {
        if (n === 0) {
          await waitFor('the enrollment', () => platform.enrollments.length > 0, 20_000);
          await post(telemetry);
          return { eventType: 'INVOKE', requestId: 'r-1' };
        }
        await waitFor(
          'lambda.invocations = 2 in the metrics stream',
          async () =>
            (await storedSamples(platform)).some((s) => s.name === 'lambda.invocations' && s.value === 2),
          20_000,
        );
        return { eventType: 'SHUTDOWN', shutdownReason: 'spindown' };
      });
      const state = mkdtempSync(join(tmpdir(), 'rca-lambda-state-'));
      try {
        const port = await freePort();
        const code = await new Promise<number>((resolve) =>
          execFile(
            join(opt, 'extensions', 'rca-agent'),
            [],
            {
              timeout: 50_000,
              env: {
                PATH: process.env.PATH,
                AWS_LAMBDA_RUNTIME_API: runtime.runtimeApi,
                AWS_REGION: 'eu-west-1',
                RCA_NODE: process.execPath,
                RCA_TOKEN: formatToken('enrollment', randomBytes),
                RCA_PLATFORM_URL: platform.url,
                RCA_NATS_URL: nats.url,
                RCA_CA_FILE: platform.caFile,
                RCA_COLLECT_INTERVAL: '1',
                RCA_HEARTBEAT_INTERVAL: '1',
                RCA_TELEMETRY_PORT: String(port),
                RCA_STATE_DIR: state,
              },
            },
            (error) => resolve(error ? Number(error.code ?? 1) : 0),
          ),
        );
        expect(code).toBe(0);
        expect(platform.enrollments[0].request.host).toMatchObject({
          hostname: 'checkout-api',
          hostId: 'lambda-123456789012-eu-west-1-checkout-api-ext-1',
        });
        const samples = await storedSamples(platform);
        expect(samples.find((s) => s.name === 'lambda.init.duration')).toMatchObject({
          value: 312.45,
          tags: { function_name: 'checkout-api', init_type: 'on-demand' },
        });
      } finally {
        rmSync(state, { recursive: true, force: true });
        await runtime.close();
      }
    }, 60_000);
  });
});
