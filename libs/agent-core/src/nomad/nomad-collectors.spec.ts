import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentTypes } from '../builtin-agent-types';
import { nomadMetrics } from './nomad-metrics';

const TESTDATA = join(__dirname, 'testdata');
/** `UPDATE_GOLDEN=1` rewrites the expected-*.json files from the code (testdata/README.md says when). */
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const TOKEN = 'b7c3e1f0-1111-4222-8333-944455556666';
const NODE = {
  'client-a': '3b4d4e2e-8f1a-4c55-9d0e-2f6a1c7b9e01',
  'client-b': '0a9c7d11-2b3e-4f60-8e71-5c4d3b2a1f00',
};

/**
 * A fake Nomad HTTP API replaying a scenario's recorded answers: `/v1/nodes` → nodes.json,
 * `/v1/job/<id>/summary` → job-<id>-summary.json, a `<name>.403` file answers 403 with its text, and
 * like Nomad with ACLs on, any request without the right X-Nomad-Token is refused with 403.
 */
async function fakeNomad(
  scenario: string,
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://nomad');
    requests.push(`${url.pathname}?${url.searchParams}`);
    const name = url.pathname
      .replace(/^\/v1\/job\/([^/]+)\/summary$/, '/v1/job-$1-summary')
      .replace(/^\/v1\//, '');
    const file = (ext: string) => join(TESTDATA, scenario, `${name}.${ext}`);
    if (req.headers['x-nomad-token'] !== TOKEN) return void res.writeHead(403).end('Permission denied');
    if (existsSync(file('403'))) return void res.writeHead(403).end(readFileSync(file('403')));
    if (!existsSync(file('json'))) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(file('json')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('nomad collector against recorded Nomad API answers', () => {
  let dir: string;
  let tokenFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rca-nomad-'));
    tokenFile = join(dir, 'nomad-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const collect = async (scenario: string, node: keyof typeof NODE, token = tokenFile) => {
    const nomad = await fakeNomad(scenario);
    try {
      const [collector] = agentTypes.createCollectors('nomad', {
        nomad_addr: nomad.url,
        nomad_token_file: token,
        nomad_node_id: NODE[node],
      });
      return { samples: await collector.collect(), requests: nomad.requests };
    } finally {
      await nomad.close();
    }
  };

  const scenarios = readdirSync(TESTDATA, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  const goldens = scenarios.flatMap(({ name: scenario }) =>
    readdirSync(join(TESTDATA, scenario))
      .filter((f) => /^expected-client-[ab]\.json$/.test(f))
      .map((f) => [scenario, f.slice('expected-'.length, -'.json'.length) as keyof typeof NODE] as const),
  );

  it.each(goldens)(
    'scenario %s, agent on %s, gives the samples of its expected file',
    async (scenario, node) => {
      const { samples } = await collect(scenario, node);
      const file = join(TESTDATA, scenario, `expected-${node}.json`);
      if (UPDATE_GOLDEN) writeFileSync(file, `${JSON.stringify(samples, null, 2)}\n`);
      expect(samples).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    },
  );

  it('reports cluster-wide counts only from the agent on the ready node with the lowest ID', async () => {
    const names = async (node: keyof typeof NODE) =>
      new Set((await collect('two_clients', node)).samples.map((s) => s.name));
    expect(await names('client-b')).toContain('nomad.jobs');
    expect(await names('client-a')).not.toContain('nomad.jobs');
    expect(await names('client-a')).toContain('nomad.node.allocations');
  });

  it('counts allocations and restarts of its own node only', async () => {
    const { samples } = await collect('two_clients', 'client-a');
    const allocations = Object.fromEntries(
      samples.filter((s) => s.name === 'nomad.node.allocations').map((s) => [s.tags!.status, s.value]),
    );
    expect(allocations).toEqual({ pending: 1, running: 2, complete: 1, failed: 1, lost: 0, unknown: 0 });
    expect(samples.find((s) => s.name === 'nomad.node.task.restarts')!.value).toBe(7);
  });

  it('fetches each job summary when the job list has none embedded (older Nomad)', async () => {
    const { samples, requests } = await collect('old_nomad', 'client-b');
    expect(requests).toContain('/v1/job/api/summary?namespace=default');
    const api = samples.filter((s) => s.name === 'nomad.job.allocations' && s.tags!.job === 'api');
    expect(Object.fromEntries(api.map((s) => [s.tags!.state, s.value]))).toMatchObject({
      failed: 1,
      queued: 1,
      running: 1,
    });
  });

  it('fails with what the token lacks when Nomad answers 403', async () => {
    await expect(collect('forbidden', 'client-a')).rejects.toThrow(
      'Nomad refused /v1/allocations (403 Permission denied): the ACL token needs node:read and namespace "default" read-job',
    );
  });

  it('sends the token from its file: without it Nomad refuses the first request', async () => {
    await expect(collect('two_clients', 'client-a', join(dir, 'absent'))).rejects.toThrow(
      'Nomad refused /v1/nodes (403',
    );
  });

  it('reports only metrics of the declared table', async () => {
    const declared = new Set(nomadMetrics.map((m) => m.name));
    const { samples } = await collect('two_clients', 'client-b');
    expect(samples.filter((s) => !declared.has(s.name))).toEqual([]);
  });
});
