import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { containerSamples, countByState } from './docker-collectors';
import { cpuPercent, DockerCpuStats, DockerStatsJson, memoryUsage } from './container-stats';

const TESTDATA = join(__dirname, 'testdata');
const read = <T>(...parts: string[]) => JSON.parse(readFileSync(join(TESTDATA, ...parts), 'utf8')) as T;
const scenarios = readdirSync(TESTDATA, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

describe('container stats maths', () => {
  it('has the recorded scenarios', () => {
    expect(scenarios.sort()).toEqual(['cgroups_v2', 'no_pids_stats', 'single_container']);
  });

  it.each(scenarios)('turns the %s stats answer into the expected samples', (scenario) => {
    const stats = read<DockerStatsJson>(scenario, 'stats.json');
    const previous = existsSync(join(TESTDATA, scenario, 'previous_cpu.json'))
      ? read<DockerCpuStats>(scenario, 'previous_cpu.json')
      : undefined;
    const expected = read<{ tags: Record<string, string>; samples: Record<string, number> }>(
      scenario,
      'expected.json',
    );

    const samples = containerSamples(stats, expected.tags, previous);

    expect(Object.fromEntries(samples.map((s) => [s.name, s.value]))).toEqual(expected.samples);
    expect(samples.every((s) => s.tags === expected.tags)).toBe(true);
  });

  it('reports no CPU figure for a one-shot answer without an earlier reading', () => {
    const stats = read<DockerStatsJson>('no_pids_stats', 'stats.json');
    expect(containerSamples(stats, {}).map((s) => s.name)).not.toContain('docker.container.cpu.usage');
  });

  it('reports no CPU figure when the container restarted and its counter went back', () => {
    const before: DockerCpuStats = {
      cpu_usage: { total_usage: 9e9 },
      system_cpu_usage: 1e12,
      online_cpus: 2,
    };
    const after: DockerCpuStats = {
      cpu_usage: { total_usage: 1e8 },
      system_cpu_usage: 1.001e12,
      online_cpus: 2,
    };
    expect(cpuPercent(before, after)).toBeNull();
  });

  it('counts CPUs from percpu_usage when online_cpus is missing (old daemons)', () => {
    const before: DockerCpuStats = {
      cpu_usage: { total_usage: 0, percpu_usage: [0, 0, 0, 0] },
      system_cpu_usage: 1e9,
    };
    const after: DockerCpuStats = {
      cpu_usage: { total_usage: 1e8, percpu_usage: [25e6, 25e6, 25e6, 25e6] },
      system_cpu_usage: 2e9,
    };
    expect(cpuPercent(before, after)).toBeCloseTo(40);
  });

  it('never reports negative memory when the cache figure exceeds usage', () => {
    expect(memoryUsage({ usage: 100, stats: { total_inactive_file: 500 } })).toBe(100);
  });

  it('counts containers per state, every known state included', () => {
    expect(
      countByState([{ State: 'running' }, { State: 'exited' }, { State: 'running' }, { State: 'created' }]),
    ).toEqual({
      created: 1,
      running: 2,
      paused: 0,
      restarting: 0,
      removing: 0,
      exited: 1,
      dead: 0,
    });
  });
});
