import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { ValidationFailedError } from '@app/contracts';
import { requireTool } from '@app/testing';
import { agentTypes } from '../builtin-agent-types';
import { ACI_FILE } from './aci-deployment';

/** Values an attacker (or an unlucky user) could put in a token, URL, environment or image name. */
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

const input = (value: string, config: Record<string, unknown> = {}) => ({
  platformUrl: `https://rca.example.com/${value}`,
  natsUrl: `nats://nats.example.com:4222/${value}`,
  enrollmentToken: `rca_et_${value}`,
  environment: `prod-${value}`,
  config,
  agentImage: `ghcr.io/acme/rca-agent:${value || '1.0'}`,
});

const command = (value: string, config?: Record<string, unknown>) =>
  agentTypes.buildDeployment('aci', input(value, config)).commands[0].command;

/** The container group as az reads it from the file, and as it reaches Resource Manager. */
interface ContainerGroupFile {
  type: string;
  name: string;
  location?: string;
  properties: {
    osType: string;
    containers: Array<{
      name: string;
      properties: {
        image: string;
        environmentVariables: Array<{ name: string; value?: string; secureValue?: string }>;
      };
    }>;
    volumes: unknown[];
  };
}

/** Runs the command in `dir` with `az` replaced by a function printing its argv: what az would be given. */
function runWithoutAz(cmd: string, dir: string): { argv: string[]; file: ContainerGroupFile } {
  const out = execFileSync('sh', ['-c', `az() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${cmd}`], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { argv: out.split('\0').slice(0, -1), file: JSON.parse(readFileSync(join(dir, ACI_FILE), 'utf8')) };
}

function expectAgentContainer(group: ContainerGroupFile, value: string): void {
  const container = group.properties.containers[0];
  const env = Object.fromEntries(
    container.properties.environmentVariables.map((e) => [e.name, e.value ?? { secure: e.secureValue }]),
  );
  expect(container.properties.image).toBe(input(value).agentImage);
  expect(env).toMatchObject({
    RCA_TOKEN: { secure: `rca_et_${value}` },
    RCA_NATS_URL: input(value).natsUrl,
    RCA_PLATFORM_URL: input(value).platformUrl,
    RCA_AGENT_TYPE: 'aci',
    RCA_RESOURCE_GROUP: 'rca-agents',
    RCA_CONTAINER_GROUP: 'rca-agent',
  });
}

describe('aci deployment', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rca-aci-cmd-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(HOSTILE)(
    'delivers %j intact inside the container group file az container create reads',
    (value) => {
      const cmd = command(value);
      const { argv, file } = runWithoutAz(cmd, dir);
      expect(argv).toEqual(['container', 'create', '--resource-group', 'rca-agents', '--file', ACI_FILE]);
      expect(parse(cmd).slice(0, 3)).toEqual(['printf', '%s\\n', expect.any(String)]);
      expect({ type: file.type, name: file.name, os: file.properties.osType }).toEqual({
        type: 'Microsoft.ContainerInstance/containerGroups',
        name: 'rca-agent',
        os: 'Linux',
      });
      expectAgentContainer(file, value);
    },
  );

  it('quotes a resource group whose name needs it, and sets the location only when given', () => {
    const { argv, file } = runWithoutAz(
      command('v', { resource_group: 'rg(prod)', location: 'westeurope' }),
      dir,
    );
    expect(argv.slice(2, 4)).toEqual(['--resource-group', 'rg(prod)']);
    expect(file.location).toBe('westeurope');
    expect(runWithoutAz(command('v'), dir).file).not.toHaveProperty('location');
  });

  it.each([
    ['container_group', 'Shop_Web'],
    ['container_group', '-x'],
    ['resource_group', 'rg;id'],
    ['resource_group', 'rg.'],
    ['location', 'West Europe'],
    ['cgroup_root', 'relative/path'],
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

const az = requireTool('azure-cli');

/**
 * Azure Resource Manager as far as `az login --identity` and `az container create` use it, over HTTPS
 * (azure-core refuses bearer tokens over plain HTTP) with a certificate made for the test: the cloud's
 * metadata, a managed-identity token endpoint (App Service style, MSI_ENDPOINT) answering an unsigned
 * JWT (az reads its claims, nothing checks a signature), the subscription list, the resource group
 * (its location) and the PUT of the container group, which it records.
 */
async function fakeResourceManager(dir: string) {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' }); // prettier-ignore
  const puts: Array<{ path: string; body: ContainerGroupFile }> = [];
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { tid: '00000000-0000-0000-0000-0000000000aa', oid: '00000000-0000-0000-0000-0000000000bb' };
  const server: Server = createServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const path = req.url!.replace(/^\/+/, '/').split('?')[0];
        const json = (status: number, value: object) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (path === '/metadata/endpoints') {
          const authentication = { loginEndpoint: url, audiences: ['https://management.core.windows.net/'] };
          return json(200, { graphEndpoint: url, galleryEndpoint: url, portalEndpoint: url, authentication });
        }
        if (path === '/msi/token') {
          const expiresOn = Math.floor(Date.now() / 1000) + 3600;
          const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: expiresOn })}.${b64({ unsigned: true })}`;
          return json(200, { access_token: token, expires_on: String(expiresOn), token_type: 'Bearer' });
        }
        if (!req.headers.authorization?.startsWith('Bearer '))
          return json(401, { error: { code: 'NoToken' } });
        if (path === '/subscriptions') {
          return json(200, { value: [{ id: `/subscriptions/${SUBSCRIPTION}`, subscriptionId: SUBSCRIPTION, tenantId: claims.tid, displayName: 'test', state: 'Enabled' }] }); // prettier-ignore
        }
        if (req.method === 'GET' && /\/resourcegroups\/[^/]+$/i.test(path)) {
          return json(200, {
            id: path,
            name: decodeURIComponent(path.split('/').pop()!),
            location: 'northeurope',
          });
        }
        if (req.method === 'PUT' && /\/containerGroups\/[^/]+$/.test(path)) {
          const group = JSON.parse(body);
          puts.push({ path, body: group });
          return json(201, {
            ...group,
            id: path,
            properties: { ...group.properties, provisioningState: 'Succeeded' },
          });
        }
        json(404, { error: { code: 'NotFound', message: `${req.method} ${path}` } });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, puts, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';

az.describe('aci deployment run by the real Azure CLI against a local Resource Manager', () => {
  let dir: string;
  let arm: Awaited<ReturnType<typeof fakeResourceManager>>;
  let env: NodeJS.ProcessEnv;
  // Asynchronous: the fake Resource Manager answers from this process's event loop.
  const run = (args: string[], cmd?: string) =>
    new Promise<string>((resolve, reject) =>
      execFile(cmd ? 'sh' : 'az', cmd ? ['-c', cmd] : args, { cwd: dir, env }, (error, stdout, stderr) =>
        error ? reject(new Error(`${cmd ?? `az ${args.join(' ')}`} failed: ${stderr}`)) : resolve(stdout),
      ),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rca-aci-az-'));
    arm = await fakeResourceManager(dir);
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      AZURE_CONFIG_DIR: join(dir, 'azure'),
      AZURE_CORE_COLLECT_TELEMETRY: 'false',
      AZURE_CORE_SURVEY_MESSAGE: 'false',
      REQUESTS_CA_BUNDLE: join(dir, 'cert.pem'),
      MSI_ENDPOINT: `${arm.url}msi/token`,
      MSI_SECRET: 'test',
    };
    await run(['cloud', 'register', '--name', 'RcaTestCloud', '--endpoint-resource-manager', arm.url]);
    await run(['cloud', 'set', '--name', 'RcaTestCloud']);
    await run(['login', '--identity']);
  }, 120_000);
  afterAll(async () => {
    await arm?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['x"; rm -rf / #', "it's", 'line1\nline2', '‘curly’'])(
    "az container create PUTs the container group with %j intact, in the resource group's region",
    async (value) => {
      arm.puts.length = 0;
      await run([], command(value));
      expect(arm.puts.map((p) => p.path)).toEqual([
        `/subscriptions/${SUBSCRIPTION}/resourcegroups/rca-agents/providers/Microsoft.ContainerInstance//containerGroups/rca-agent`,
      ]);
      const group = arm.puts[0].body;
      expect(group.location).toBe('northeurope');
      expectAgentContainer(group, value);
      expect(group.properties.volumes).toEqual([{ name: 'rca-agent-state', emptyDir: {} }]);
    },
    60_000,
  );

  it('az container create uses the configured location without asking for the resource group', async () => {
    arm.puts.length = 0;
    await run([], command('v', { location: 'westeurope', container_group: 'shop-web' }));
    expect(arm.puts.map((p) => [p.path.split('/').pop(), p.body.location])).toEqual([
      ['shop-web', 'westeurope'],
    ]);
  }, 60_000);
});
