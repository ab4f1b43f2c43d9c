import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { AgentFatalError } from '../agent-exit-codes';
import { agentTypes } from '../builtin-agent-types';
import { LambdaTelemetryCollector } from './lambda-collectors';
import { EXTENSION_NAME, ExtensionsApiError } from './lambda-extension';
import { LambdaExtensionSession } from './lambda-extension-session';
import { lambdaMetrics } from './lambda-metrics';

const TESTDATA = join(__dirname, 'testdata');
/** `UPDATE_GOLDEN=1` rewrites the expected.json files from the code (testdata/README.md says when). */
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const EXTENSION_ID = '1f3a5c7e-9b2d-4f60-8a1c-3e5d7f9b1a2c';
const silent = pino({ level: 'silent' });
const readJson = (scenario: string, file: string) =>
  JSON.parse(readFileSync(join(TESTDATA, scenario, file), 'utf8')) as unknown;

/**
 * The Runtime API's Extensions and Telemetry endpoints as Lambda serves them to an extension, replaying a
 * scenario: registration answers register.json, the telemetry subscription is recorded, and before
 * answering the n-th `event/next` with events.json[n] the fake POSTs telemetry.json[n] (one batch, as
 * Lambda's buffering delivers it) to the destination the extension subscribed with.
 */
async function fakeRuntimeApi(scenario: string) {
  const events = readJson(scenario, 'events.json') as object[];
  const batches = readJson(scenario, 'telemetry.json') as unknown[][];
  const subscriptions: Array<{ destination: { URI: string } } & Record<string, unknown>> = [];
  const registrations: Array<{ name?: string; body: unknown }> = [];
  let served = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const json = (status: number, value: object, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      if (req.method === 'POST' && req.url === '/2020-01-01/extension/register') {
        registrations.push({ name: req.headers['lambda-extension-name'] as string, body: JSON.parse(body) });
        return json(200, readJson(scenario, 'register.json') as object, {
          'Lambda-Extension-Identifier': EXTENSION_ID,
        });
      }
      if (req.headers['lambda-extension-identifier'] !== EXTENSION_ID)
        return json(403, {
          errorMessage: 'Unknown extension',
          errorType: 'Extension.UnknownExtensionIdentifier',
        });
      if (req.method === 'PUT' && req.url === '/2022-07-01/telemetry') {
        subscriptions.push(JSON.parse(body));
        return void res.writeHead(200).end('OK');
      }
      if (req.method === 'GET' && req.url === '/2020-01-01/extension/event/next') {
        const n = served++;
        if (n >= events.length) return; // after SHUTDOWN Lambda answers no more (the environment is gone)
        if (batches[n]) {
          const delivered = await fetch(subscriptions[0].destination.URI, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batches[n]),
          });
          if (delivered.status !== 200) throw new Error(`batch ${n} refused: ${delivered.status}`);
        }
        return json(200, events[n], { 'Lambda-Extension-Event-Identifier': `event-${n}` });
      }
      json(404, { errorMessage: `${req.method} ${req.url}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    runtimeApi: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    subscriptions,
    registrations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One environment's life against the fake, then one collection. */
async function replay(scenario: string) {
  const runtime = await fakeRuntimeApi(scenario);
  const collector = new LambdaTelemetryCollector();
  const session = new LambdaExtensionSession(
    { runtimeApi: runtime.runtimeApi, listenHost: '127.0.0.1', port: 0, destinationHost: '127.0.0.1' },
    collector.telemetry,
    silent,
  );
  try {
    const registration = await session.open();
    const invokes: string[] = [];
    const shutdown = await session.run(
      async (event) => void invokes.push(event.eventType === 'INVOKE' ? String(event.requestId) : ''),
    );
    return { registration, invokes, shutdown, samples: await collector.collect(), runtime, collector };
  } finally {
    await session.close();
    await runtime.close();
  }
}

const value = (samples: { name: string; value: number }[], name: string) =>
  samples.find((s) => s.name === name)?.value;

describe('lambda extension against a fake Runtime API replaying recorded Telemetry API events', () => {
  const scenarios = readdirSync(TESTDATA, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(TESTDATA, entry.name, 'telemetry.json')))
    .map((entry) => entry.name);

  it.each(scenarios)('scenario %s gives the samples of its expected.json', async (scenario) => {
    const { samples } = await replay(scenario);
    const file = join(TESTDATA, scenario, 'expected.json');
    if (UPDATE_GOLDEN) writeFileSync(file, `${JSON.stringify(samples, null, 2)}\n`);
    expect(samples).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });

  it('registers by its launcher name for INVOKE and SHUTDOWN and subscribes to platform events only', async () => {
    const { runtime, registration, shutdown, invokes } = await replay('cold_start');
    expect(runtime.registrations).toEqual([
      { name: EXTENSION_NAME, body: { events: ['INVOKE', 'SHUTDOWN'] } },
    ]);
    expect(registration).toEqual({
      extensionId: EXTENSION_ID,
      functionName: 'checkout-api',
      functionVersion: '$LATEST',
      accountId: '123456789012',
    });
    expect(runtime.subscriptions).toEqual([
      {
        schemaVersion: '2022-12-13',
        types: ['platform'],
        buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
        destination: { protocol: 'HTTP', URI: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
      },
    ]);
    expect(invokes).toEqual(['6f7f0961-4f5c-4a4b-9d1a-1c6e1b3c2a01', '6f7f0961-4f5c-4a4b-9d1a-1c6e1b3c2a02']);
    expect(shutdown).toMatchObject({ eventType: 'SHUTDOWN', shutdownReason: 'spindown' });
  });

  it('reports a cold start: its init duration once, two invocations averaged, the highest memory', async () => {
    const { samples } = await replay('cold_start');
    expect(value(samples, 'lambda.invocations')).toBe(2);
    expect(value(samples, 'lambda.init.duration')).toBe(312.45);
    expect(value(samples, 'lambda.duration.avg')).toBeCloseTo((120.5 + 45.25) / 2, 10);
    expect(value(samples, 'lambda.billed_duration')).toBe(121 + 46);
    expect(value(samples, 'lambda.memory.max_used')).toBe(80 * 1024 * 1024);
    expect(samples[0].tags).toEqual({ function_name: 'checkout-api', function_version: '$LATEST' });
  });

  it('counts error and failure as errors and timeout as a timeout, skipping reports without metrics', async () => {
    const { samples, collector } = await replay('errors_and_timeouts');
    expect(value(samples, 'lambda.invocations')).toBe(4);
    expect(value(samples, 'lambda.errors')).toBe(2);
    expect(value(samples, 'lambda.timeouts')).toBe(1);
    expect(value(samples, 'lambda.duration.max')).toBe(60000);
    expect(samples.map((s) => s.name)).not.toContain('lambda.init.duration');
    expect(collector.telemetry.ignored).toBe(2);
  });

  it('starts each interval afresh: a second collection has zero counts and nothing measured', async () => {
    const { collector } = await replay('cold_start');
    expect(await collector.collect()).toEqual([
      { name: 'lambda.invocations', value: 0, unit: '1', tags: expect.any(Object) },
      { name: 'lambda.errors', value: 0, unit: '1', tags: expect.any(Object) },
      { name: 'lambda.timeouts', value: 0, unit: '1', tags: expect.any(Object) },
    ]);
  });

  it('answers 400 to a telemetry batch that is not JSON, so Lambda does not retry it for ever', async () => {
    const collector = new LambdaTelemetryCollector();
    const fake = await fakeRuntimeApi('init_failure');
    const session = new LambdaExtensionSession(
      { runtimeApi: fake.runtimeApi, listenHost: '127.0.0.1', port: 0, destinationHost: '127.0.0.1' },
      collector.telemetry,
      silent,
    );
    try {
      await session.open();
      const response = await fetch(fake.subscriptions[0].destination.URI, {
        method: 'POST',
        body: '[{"type":',
      });
      expect(response.status).toBe(400);
    } finally {
      await session.close();
      await fake.close();
    }
  });

  it('fails with what the Extensions API said when the registration is refused', async () => {
    const collector = new LambdaTelemetryCollector();
    const session = new LambdaExtensionSession(
      { runtimeApi: '127.0.0.1:1', port: 0 },
      collector.telemetry,
      silent,
    );
    await expect(session.open()).rejects.toThrow(ExtensionsApiError);
    await expect(session.open()).rejects.toThrow('POST /2020-01-01/extension/register at 127.0.0.1:1 failed');
  });

  it('refuses to start outside Lambda (no runtime API) with a bad-configuration exit', async () => {
    const agent = agentTypes.create(
      'lambda',
      {
        natsUrl: 'nats://127.0.0.1:1',
        stateDir: '/tmp/rca-lambda-none',
        heartbeatIntervalSeconds: 10,
        collectIntervalSeconds: 10,
        logger: silent,
      },
      {},
      { environment: {} },
    );
    await expect(agent.start()).rejects.toThrow(AgentFatalError);
    await expect(agent.start()).rejects.toMatchObject({ exitCode: 64 });
  });

  it('reports only metrics of the declared table', async () => {
    const declared = new Set(lambdaMetrics.map((m) => m.name));
    for (const scenario of scenarios) {
      const { samples } = await replay(scenario);
      expect(samples.filter((s) => !declared.has(s.name))).toEqual([]);
    }
  });
});
