import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationFailedError } from '@app/contracts';
import { requireTool } from '@app/testing';
import { agentTypes } from '../builtin-agent-types';
import { AgentArtifacts } from '../deployment/agent-artifacts';

/** Values an attacker (or an unlucky user) could put in a token, URL or environment name. */
const HOSTILE = [
  'x"; rm -rf / #',
  '$(id)',
  '`id`',
  "it's",
  "'",
  'line1\nline2',
  '${HOME}',
  '{{ env "X" }}',
  '‘curly’',
  '',
];

const TESTDATA = join(__dirname, 'testdata', 'aws-api');
/** A stand-in for the layer: an empty zip (end-of-central-directory record) with a comment; aws checks it is a zip. */
const COMMENT = Buffer.from('a stand-in for the layer the gateway serves');
const LAYER = Buffer.concat([
  Buffer.from([0x50, 0x4b, 0x05, 0x06]),
  Buffer.alloc(16),
  Buffer.from([COMMENT.length, 0]),
  COMMENT,
]);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const artifacts = (layer: Buffer = LAYER): AgentArtifacts => ({
  version: '0.1.0',
  bundle: { file: 'rca-agent-bundle.tgz', size: 1, sha256: '0'.repeat(64) },
  binaries: {},
  lambdaLayer: { file: 'rca-agent-lambda-layer.zip', size: layer.length, sha256: sha256(layer) },
});

const input = (
  value: string,
  config: Record<string, unknown> = {},
  platformUrl = `https://rca.example.com/${value}`,
) => ({
  platformUrl,
  natsUrl: `nats://nats.example.com:4222/${value}`,
  enrollmentToken: `rca_et_${value}`,
  environment: `prod-${value}`,
  config: { function_name: 'checkout-api', ...config },
  agentImage: 'ghcr.io/acme/rca-agent:1.0',
  artifacts: artifacts(),
});

const expectedVariables = (value: string, platformUrl = `https://rca.example.com/${value}`) => ({
  RCA_TOKEN: `rca_et_${value}`,
  RCA_NATS_URL: `nats://nats.example.com:4222/${value}`,
  RCA_PLATFORM_URL: platformUrl,
  RCA_AGENT_TYPE: 'lambda',
  RCA_LOG_LEVEL: 'info',
  RCA_STATE_DIR: '/tmp/rca-agent',
});

/**
 * Runs the command in `dir` with `aws` and `curl` replaced by functions that log their argv (NUL-separated,
 * one call per line of calls.json) and keep a copy of every `file://` argument, answering as the real
 * ones would: the guard query "0 0", publish-layer-version a layer ARN, curl the stand-in layer.
 */
function runWithStubs(cmd: string, dir: string) {
  const stubs = [
    `log() { for a in "$@"; do printf '%s\\0' "$a"; done >> calls; printf '\\036' >> calls; }`,
    `aws() { log aws "$@"; for a in "$@"; do case "$a" in file://*) cp "\${a#file://}" environment.json;; esac; done;`,
    `  case "$2" in get-function-configuration) printf '0\\t0\\n';; publish-layer-version) echo arn:aws:lambda:eu-west-1:123456789012:layer:rca-agent:7;; esac; }`,
    `curl() { log curl "$@"; cp layer.src "$4"; }`,
  ].join('\n');
  writeFileSync(join(dir, 'layer.src'), LAYER);
  execFileSync('sh', ['-c', `${stubs}\n${cmd}`], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  const calls = readFileSync(join(dir, 'calls'), 'utf8')
    .split('\x1e')
    .filter(Boolean)
    .map((line) => line.split('\0').slice(0, -1));
  return { calls, environment: JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')) };
}

const command = (value: string, config?: Record<string, unknown>, platformUrl?: string) =>
  agentTypes.buildDeployment('lambda', input(value, config, platformUrl)).commands[0].command;

describe('lambda deployment', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rca-lambda-cmd-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(HOSTILE)('delivers %j intact to the function environment aws reads from its file', (value) => {
    const { calls, environment } = runWithStubs(command(value), dir);
    expect(calls.map((c) => c.slice(0, 3))).toEqual([
      ['aws', 'lambda', 'get-function-configuration'],
      [
        'curl',
        '-fsSL',
        `${`https://rca.example.com/${value}`.replace(/\/+$/, '')}/downloads/rca-agent-lambda-layer.zip`,
      ],
      ['aws', 'lambda', 'publish-layer-version'],
      ['aws', 'lambda', 'update-function-configuration'],
    ]);
    const update = calls[3];
    expect(update.slice(3, 7)).toEqual([
      '--function-name',
      'checkout-api',
      '--layers',
      'arn:aws:lambda:eu-west-1:123456789012:layer:rca-agent:7',
    ]);
    expect(environment).toEqual({ Variables: expectedVariables(value) });
    // The token is in a file, never in an argument that ps shows.
    expect(calls.flat().some((arg) => arg.includes(`rca_et_${value}`))).toBe(false);
  });

  it('publishes nothing and attaches the given layer version when layer_arn is set', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:layer:rca-agent:4';
    const { calls } = runWithStubs(command('v', { layer_arn: arn, region: 'eu-west-1' }), dir);
    expect(calls.map((c) => c[2])).toEqual(['get-function-configuration', 'update-function-configuration']);
    expect(calls[1]).toEqual(expect.arrayContaining(['--layers', arn, '--region', 'eu-west-1']));
  });

  it('refuses to publish a layer whose SHA-256 is not the pinned one', () => {
    const deployment = agentTypes.buildDeployment('lambda', {
      ...input('v'),
      artifacts: artifacts(Buffer.from('other')),
    });
    expect(() => runWithStubs(deployment.commands[0].command, dir)).toThrow(
      'the downloaded layer does not match its SHA-256',
    );
    const calls = readFileSync(join(dir, 'calls'), 'utf8');
    expect(calls).not.toContain('publish-layer-version');
  });

  it('warns when the platform has no layer to serve, and when its URLs are loopback', () => {
    const deployment = agentTypes.buildDeployment('lambda', {
      ...input('v', {}, 'http://127.0.0.1:3000'),
      artifacts: undefined,
    });
    expect(deployment.warnings).toEqual([
      expect.stringContaining('loopback URLs (http://127.0.0.1:3000)'),
      expect.stringContaining('no agent build'),
    ]);
    expect(deployment.instructions.length).toBeGreaterThan(3);
  });

  it.each([
    ['function_name', 'arn:aws:lambda:eu-west-1:1:function:x'],
    ['function_name', 'a b'],
    ['region', 'EU West'],
    ['layer_arn', "arn:aws:lambda:eu-west-1:123456789012:layer:x:1'; id"],
    ['layer_name', 'rca agent'],
    ['telemetry_port', 80],
    ['runtime_api', 'http://127.0.0.1:9001'],
  ])('refuses %s %j before any command is built', (field, value) => {
    let error: unknown;
    try {
      command('v', { [field]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).errors?.map((e) => e.field)).toEqual([`config.${field}`]);
  });
});

const aws = requireTool('awscli');

/**
 * The Lambda API as far as the generated command uses it, recording each request: GET and PUT
 * /2015-03-31/functions/<name>/configuration, POST /2018-10-31/layers/<name>/versions; and the gateway's
 * layer download. `functionFile` is the recorded configuration GET answers (testdata/aws-api).
 */
/** The parts of the Lambda API's request bodies the tests read (PublishLayerVersion, UpdateFunctionConfiguration). */
interface LambdaRequestBody {
  Content: { ZipFile: string };
  CompatibleRuntimes: string[];
  Layers: string[];
  Environment: { Variables: Record<string, string> };
}

async function fakeLambdaApi() {
  const requests: Array<{ method: string; path: string; body: LambdaRequestBody; authorization?: string }> =
    [];
  const state = { functionFile: 'function-clean.json', layer: LAYER };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url!.split('?')[0];
      const text = Buffer.concat(chunks).toString('utf8');
      const json = (status: number, value: object) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (path === '/downloads/rca-agent-lambda-layer.zip') return void res.writeHead(200).end(state.layer);
      requests.push({
        method: req.method!,
        path,
        body: text ? JSON.parse(text) : undefined,
        authorization: req.headers.authorization,
      });
      const fn = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/.exec(path);
      if (fn && req.method === 'GET')
        return json(200, JSON.parse(readFileSync(join(TESTDATA, state.functionFile), 'utf8')));
      if (fn && req.method === 'PUT') {
        const base = JSON.parse(readFileSync(join(TESTDATA, 'function-clean.json'), 'utf8'));
        return json(200, {
          ...base,
          Environment: JSON.parse(text).Environment,
          LastUpdateStatus: 'InProgress',
        });
      }
      const layer = /^\/2018-10-31\/layers\/([^/]+)\/versions$/.exec(path);
      if (layer && req.method === 'POST')
        return json(201, {
          LayerArn: `arn:aws:lambda:eu-west-1:123456789012:layer:${layer[1]}`,
          LayerVersionArn: `arn:aws:lambda:eu-west-1:123456789012:layer:${layer[1]}:7`,
          Version: 7,
          CompatibleRuntimes: JSON.parse(text).CompatibleRuntimes,
        });
      json(404, { Type: 'User', message: `${req.method} ${path}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

aws.describe('lambda deployment run by the real AWS CLI against a local Lambda API', () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof fakeLambdaApi>>;
  let env: NodeJS.ProcessEnv;
  // Asynchronous: the fake API answers from this process's event loop. `aws` gets --endpoint-url first.
  const run = (cmd: string) =>
    new Promise<{ stdout: string; stderr: string; code: number }>((resolve) =>
      execFile(
        'sh',
        ['-c', `aws() { command aws --endpoint-url "$RCA_TEST_ENDPOINT" "$@"; }\n${cmd}`],
        { cwd: dir, env },
        (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? Number(error.code ?? 1) : 0 }),
      ),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rca-lambda-aws-'));
    api = await fakeLambdaApi();
    writeFileSync(
      join(dir, 'credentials'),
      '[default]\naws_access_key_id = AKIATESTTESTTEST\naws_secret_access_key = test\n',
    );
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      RCA_TEST_ENDPOINT: api.url,
    };
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.requests.length = 0;
    api.state.functionFile = 'function-clean.json';
    api.state.layer = LAYER;
  });

  it.each(['x"; rm -rf / #', "it's", 'line1\nline2', '‘curly’'])(
    'publishes the pinned layer and PUTs the function configuration with %j intact',
    async (value) => {
      const result = await run(command(value, { region: 'eu-west-1' }, api.url));
      expect(result).toMatchObject({ stderr: '', code: 0, stdout: 'InProgress\n' });
      expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /2015-03-31/functions/checkout-api/configuration',
        'POST /2018-10-31/layers/rca-agent/versions',
        'PUT /2015-03-31/functions/checkout-api/configuration',
      ]);
      const [, publish, update] = api.requests;
      expect(Buffer.from(publish.body.Content.ZipFile, 'base64')).toEqual(LAYER);
      expect(publish.body.CompatibleRuntimes).toEqual(['nodejs20.x', 'nodejs22.x']);
      expect(update.body).toEqual({
        Layers: ['arn:aws:lambda:eu-west-1:123456789012:layer:rca-agent:7'],
        Environment: { Variables: expectedVariables(value, api.url) },
      });
      expect(update.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIATESTTESTTEST\/\d{8}\/eu-west-1\/lambda\/aws4_request/,
      );
    },
    60_000,
  );

  it('attaches a given layer version without publishing, replacing an earlier agent version', async () => {
    api.state.functionFile = 'function-agent-only.json';
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:layer:rca-agent:4';
    const result = await run(command('v', { layer_arn: arn }, api.url));
    expect(result.code).toBe(0);
    expect(api.requests.map((r) => r.method)).toEqual(['GET', 'PUT']);
    expect(api.requests[1].body.Layers).toEqual([arn]);
  }, 60_000);

  it('stops before any change when the function has variables or layers of its own', async () => {
    api.state.functionFile = 'function-with-own-config.json';
    const result = await run(command('v', {}, api.url));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'checkout-api has environment variables or layers of its own (other variables, other layers: 1',
    );
    expect(api.requests.map((r) => r.method)).toEqual(['GET']);
  }, 60_000);

  it('publishes nothing when the downloaded layer is not the one pinned in the command', async () => {
    api.state.layer = Buffer.from('a tampered layer');
    const result = await run(command('v', {}, api.url));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('does not match its SHA-256');
    expect(api.requests.map((r) => r.method)).toEqual(['GET']);
    expect(readdirSync(dir)).not.toContain('layer.zip');
  }, 60_000);
});
