import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseReading, readingSamples, UnreadableTargetError } from './proc-readings';
import { sshMetrics } from './ssh-metrics';

const TESTDATA = join(__dirname, 'testdata');
const scenarios = readdirSync(TESTDATA).filter((name) => existsSync(join(TESTDATA, name, 'current.txt')));
/** `UPDATE_GOLDEN=1` rewrites expected.json from the code (testdata/README.md says when that is right). */
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

function samplesOf(scenario: string) {
  const read = (file: string) => readFileSync(join(TESTDATA, scenario, file), 'utf8');
  return readingSamples(parseReading(read('current.txt'), 10_000), parseReading(read('previous.txt'), 0));
}

describe('readings of /proc and df taken over SSH', () => {
  it.each(scenarios)('scenario %s gives the samples in its expected.json', (scenario) => {
    const samples = samplesOf(scenario);
    const file = join(TESTDATA, scenario, 'expected.json');
    if (UPDATE_GOLDEN) writeFileSync(file, `${JSON.stringify(samples, null, 2)}\n`);
    expect(samples).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });

  it('reports only metrics of the declared table', () => {
    const declared = new Set(sshMetrics.map((m) => m.name));
    const names = new Set(scenarios.flatMap((s) => samplesOf(s).map((sample) => sample.name)));
    expect([...names].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('takes a counter that went down as restarted, never as a negative rate', () => {
    const get = (name: string) => samplesOf('counter_reset').find((s) => s.name === name)!.value;
    expect(get('system.network.rx_rate')).toBe(20_000);
    expect(get('system.network.tx_rate')).toBe(10_000);
    expect(get('system.cpu.usage')).toBe(80);
  });

  it('leaves out pseudo filesystems and the loopback interface but keeps a mount path with a space', () => {
    const samples = samplesOf('debian_host');
    const mounts = samples.filter((s) => s.name === 'system.disk.total').map((s) => s.tags!.mount);
    expect(mounts).toEqual(['/', '/srv/data files']);
    expect(samples.some((s) => s.tags?.interface === 'lo')).toBe(false);
  });

  it('has no CPU usage or rates on the first reading of a target', () => {
    const current = readFileSync(join(TESTDATA, 'debian_host', 'current.txt'), 'utf8');
    const names = readingSamples(parseReading(current, 0)).map((s) => s.name);
    expect(names).not.toContain('system.cpu.usage');
    expect(names).not.toContain('system.network.rx_rate');
    expect(names).toContain('system.memory.used');
  });

  it('refuses a target without a Linux /proc with a reason', () => {
    const bsd = '@@hostname\nfreebsd-1\n@@uname\nFreeBSD 14.0-RELEASE amd64\n@@uptime\n@@loadavg\n';
    expect(() => parseReading(bsd, 0)).toThrow(UnreadableTargetError);
    expect(() => parseReading(bsd, 0)).toThrow(/^the target printed no \w+ \(not a Linux \/proc\?\)$/);
  });
});
