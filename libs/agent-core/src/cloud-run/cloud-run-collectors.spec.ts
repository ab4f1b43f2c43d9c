import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import pino from 'pino';
import { HostIdentity } from '@app/contracts';
import { AgentOptions } from '../base-agent';
import { agentTypes } from '../builtin-agent-types';
import { CloudRunAgent } from './cloud-run-agent';
import { CloudRunCgroupCollector } from './cloud-run-collectors';
import { MetadataServer, MetadataServerError } from './cloud-run-metadata';
import { cloudRunMetrics } from './cloud-run-metrics';

const TESTDATA = join(__dirname, 'testdata');
/** `UPDATE_GOLDEN=1` rewrites the expected.json files from the code (testdata/README.md says when). */
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const INTERVAL_MS = 10_000;

/**
 * The metadata server replaying a scenario's recorded answers (testdata/<scenario>/metadata/<path>) under
 * /computeMetadata/v1/, refusing like the real one a request without `Metadata-Flavor: Google` (403), and
 * answering with that header. `flavor: false` makes it a server that is not a metadata server.
 */
async function fakeMetadataServer(scenario: string, options: { flavor?: boolean } = {}) {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url!);
    if (req.headers['metadata-flavor'] !== 'Google')
      return void res.writeHead(403).end('Missing required header: Metadata-Flavor');
    const path = normalize(req.url!.replace(/^\/computeMetadata\/v1\//, ''));
    const file = join(TESTDATA, scenario, 'metadata', path);
    const headers = options.flavor === false ? {} : { 'Metadata-Flavor': 'Google' };
    if (path.startsWith('..') || !existsSync(file)) return void res.writeHead(404, headers).end('Not Found');
    res.writeHead(200, { ...headers, 'content-type': 'application/text' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The agent's host as it would enroll: describeHost is what enrollment sends. */
class HostProbe extends CloudRunAgent {
  identify(): Promise<HostIdentity> {
    return this.describeHost('fallback-host-id');
  }
}

function probe(metadataUrl: string): HostProbe {
  const options: AgentOptions = {
    agentType: 'cloud-run',
    natsUrl: 'nats://127.0.0.1:1',
    stateDir: join(tmpdir(), 'rca-cloud-run-unused'),
    heartbeatIntervalSeconds: 10,
    collectIntervalSeconds: 10,
    logger: pino({ level: 'silent' }),
    collectors: [],
  };
  return new HostProbe(options, new MetadataServer(metadataUrl), 'checkout');
}

/** Two collections ten seconds apart (a fake clock) over the scenario's previous/ then current/ cgroup files. */
async function collectTwice(scenario: string) {
  const root = mkdtempSync(join(tmpdir(), 'rca-cloud-run-cgroup-'));
  try {
    let now = 1_700_000_000_000;
    cpSync(join(TESTDATA, scenario, 'previous'), root, { recursive: true });
    const collector = new CloudRunCgroupCollector(root, 'checkout', () => now);
    const first = await collector.collect();
    cpSync(join(TESTDATA, scenario, 'current'), root, { recursive: true });
    now += INTERVAL_MS;
    return { first, second: await collector.collect() };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const value = (samples: { name: string; value: number }[], name: string) =>
  samples.find((s) => s.name === name)?.value;

describe('cloud-run agent against recorded metadata-server answers and cgroup files', () => {
  const scenarios = readdirSync(TESTDATA, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

  it.each(scenarios)('scenario %s gives the host and samples of its expected.json', async (scenario) => {
    const metadata = await fakeMetadataServer(scenario);
    try {
      const { hostname, hostId } = await probe(metadata.url).identify();
      const { second } = await collectTwice(scenario);
      const actual = { host: { hostname, hostId }, samples: second };
      const file = join(TESTDATA, scenario, 'expected.json');
      if (UPDATE_GOLDEN) writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
      expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    } finally {
      await metadata.close();
    }
  });

  it('names the host after the service and instance, scoped by project and region from the metadata server', async () => {
    const metadata = await fakeMetadataServer('gen2_instance');
    try {
      const host = await probe(metadata.url).identify();
      expect(host.hostname).toBe('checkout-0069c7a988f2');
      expect(host.hostId).toMatch(/^cloudrun-shop-prod-4821-europe-west1-checkout-0069c7a988f2b1d7/);
      expect(host.hostId.length).toBeLessThanOrEqual(255);
      expect(metadata.requests.sort()).toEqual([
        '/computeMetadata/v1/instance/id',
        '/computeMetadata/v1/instance/region',
        '/computeMetadata/v1/project/numeric-project-id',
        '/computeMetadata/v1/project/project-id',
      ]);
    } finally {
      await metadata.close();
    }
  });

  it('refuses an answer without Metadata-Flavor: Google, and the agent falls back to its own identity', async () => {
    const impostor = await fakeMetadataServer('gen2_instance', { flavor: false });
    try {
      await expect(new MetadataServer(impostor.url).identity()).rejects.toThrow(MetadataServerError);
      await expect(new MetadataServer(impostor.url).identity()).rejects.toThrow('not a metadata server');
      const host = await probe(impostor.url).identify();
      expect(host.hostId).not.toMatch(/^cloudrun-/);
    } finally {
      await impostor.close();
    }
  });

  it('says what is missing when the metadata server lacks an answer or cannot be reached', async () => {
    const empty = await fakeMetadataServer('no-such-scenario');
    try {
      await expect(new MetadataServer(empty.url).identity()).rejects.toThrow(
        'answered project/project-id with 404',
      );
    } finally {
      await empty.close();
    }
    await expect(new MetadataServer('http://127.0.0.1:1').identity()).rejects.toThrow(
      'metadata server http://127.0.0.1:1 unreachable',
    );
  });

  it('reports cores used from the cgroup v2 usage_usec delta, and the working set net of inactive_file', async () => {
    const { first, second } = await collectTwice('gen2_instance');
    expect(value(first, 'cloudrun.container.cpu.usage')).toBeUndefined();
    // 4.5 s - 4 s of CPU over 10 s.
    expect(value(second, 'cloudrun.container.cpu.usage')).toBeCloseTo(0.05, 10);
    expect(value(second, 'cloudrun.container.cpu.limit')).toBe(1);
    expect(value(second, 'cloudrun.container.memory.working_set')).toBe(62914560 - 12582912);
    expect(second[0].tags).toEqual({ service: 'checkout', container: 'rca-agent', cgroup_version: 'v2' });
  });

  it('reports no limit where the cgroup has none', async () => {
    const names = (await collectTwice('gen2_unlimited')).second.map((s) => s.name);
    expect(names).not.toContain('cloudrun.container.cpu.limit');
    expect(names).not.toContain('cloudrun.container.memory.limit');
  });

  it('is built by the registry from cgroup_root and service', async () => {
    const [collector] = agentTypes.createCollectors('cloud-run', {
      cgroup_root: join(TESTDATA, 'gen2_instance', 'current'),
      service: 'checkout',
    });
    expect(collector).toBeInstanceOf(CloudRunCgroupCollector);
    expect((await collector.collect())[0].tags).toMatchObject({ service: 'checkout' });
  });

  it('reports only metrics of the declared table', async () => {
    const declared = new Set(cloudRunMetrics.map((m) => m.name));
    for (const scenario of scenarios) {
      const { second } = await collectTwice(scenario);
      expect(second.filter((s) => !declared.has(s.name))).toEqual([]);
    }
  });
});
