import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentTypes } from '../builtin-agent-types';
import { AciCgroupCollector } from './aci-collectors';
import { aciMetrics } from './aci-metrics';

const TESTDATA = join(__dirname, 'testdata');
/** `UPDATE_GOLDEN=1` rewrites the expected.json files from the code (testdata/README.md says when). */
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const INTERVAL_MS = 10_000;

/**
 * Two collections ten seconds apart (a fake clock), the collector's cgroup root a temporary
 * directory holding the scenario's `previous/` files, then its `current/` files (as the kernel rewrites them).
 */
async function collectTwice(scenario: string) {
  const root = mkdtempSync(join(tmpdir(), 'rca-aci-cgroup-'));
  try {
    let now = 1_700_000_000_000;
    const clock = () => now;
    cpSync(join(TESTDATA, scenario, 'previous'), root, { recursive: true });
    const collector = new AciCgroupCollector(root, 'shop-web', clock);
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

describe('aci collector against recorded cgroup files', () => {
  const scenarios = readdirSync(TESTDATA, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

  it.each(scenarios)('scenario %s gives the samples of its expected.json', async (scenario) => {
    const { second } = await collectTwice(scenario);
    const file = join(TESTDATA, scenario, 'expected.json');
    if (UPDATE_GOLDEN) writeFileSync(file, `${JSON.stringify(second, null, 2)}\n`);
    expect(second).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });

  it('reports cores used only from the second reading on, from the cgroup v2 usage_usec delta', async () => {
    const { first, second } = await collectTwice('cgroup_v2_limited');
    expect(value(first, 'aci.container.cpu.usage')).toBeUndefined();
    // 12.5 s - 10 s of CPU over 10 s: a quarter of a core, exactly its cpu.max quota.
    expect(value(second, 'aci.container.cpu.usage')).toBeCloseTo(0.25, 10);
    expect(value(second, 'aci.container.cpu.limit')).toBe(0.25);
    expect(value(second, 'aci.container.memory.working_set')).toBe(73400320 - 10485760);
  });

  it('reads cgroup v1 with cpu and cpuacct joined, the working set net of total_inactive_file', async () => {
    const { second } = await collectTwice('cgroup_v1');
    expect(value(second, 'aci.container.cpu.time')).toBe(7.2);
    expect(value(second, 'aci.container.cpu.usage')).toBeCloseTo(0.4, 10);
    expect(value(second, 'aci.container.cpu.limit')).toBe(0.5);
    expect(value(second, 'aci.container.memory.working_set')).toBe(110100480 - 16777216);
    expect(second[0].tags).toEqual({
      container_group: 'shop-web',
      container: 'rca-agent',
      cgroup_version: 'v1',
    });
  });

  it('reports no limit where the cgroup has none, and no cores used after the counter went back', async () => {
    for (const scenario of ['cgroup_v2_unlimited', 'cgroup_v1_unlimited']) {
      const names = (await collectTwice(scenario)).second.map((s) => s.name);
      expect(names).not.toContain('aci.container.cpu.limit');
      expect(names).not.toContain('aci.container.memory.limit');
    }
    expect(
      value((await collectTwice('cgroup_v1_unlimited')).second, 'aci.container.cpu.usage'),
    ).toBeUndefined();
  });

  it('is built by the registry from cgroup_root, and fails with what is missing when that is not a cgroup', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rca-aci-empty-'));
    try {
      const [collector] = agentTypes.createCollectors('aci', { cgroup_root: root });
      expect(collector).toBeInstanceOf(AciCgroupCollector);
      await expect(collector.collect()).rejects.toThrow(`no cpuacct/cpuacct.usage under ${root}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports only metrics of the declared table', async () => {
    const declared = new Set(aciMetrics.map((m) => m.name));
    for (const scenario of scenarios) {
      const { second } = await collectTwice(scenario);
      expect(second.filter((s) => !declared.has(s.name))).toEqual([]);
    }
  });
});
