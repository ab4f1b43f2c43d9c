import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricSample } from '@app/contracts';
import { PartialCollectionError } from '../agent-type';
import { ExecCollector } from './exec-collector';
import { parseExecPlugins } from './exec-config';

let dir: string;
/** An executable shell script in the test's directory. */
const script = (name: string, body: string) => {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
};
const plugin = (raw: Record<string, unknown>) => new ExecCollector(parseExecPlugins([raw], 'test')[0], 10);

async function run(collector: ExecCollector): Promise<{ samples: MetricSample[]; error?: string }> {
  try {
    return { samples: await collector.collect() };
  } catch (error) {
    if (!(error instanceof PartialCollectionError)) throw error;
    return { samples: error.samples, error: error.message };
  }
}
const valueOf = (samples: MetricSample[], name: string) => samples.find((s) => s.name === name)?.value;
/** Running, not a zombie (a killed orphan waits for the container's init to reap it). */
const running = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
};

describe(ExecCollector.name, () => {
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rca-exec-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the line protocol a script prints: one sample per numeric field, tagged with the plugin', async () => {
    const file = script(
      'queue.sh',
      `printf 'jobs,queue=mail pending=3i,oldest=12.5,owner="ops" 1700000000000000000\\nbackup ok=true,value=1\\n'`,
    );
    const { samples, error } = await run(
      plugin({ name: 'queues', command: [file], labels: { team: 'ops' } }),
    );
    expect(error).toBeUndefined();
    const base = { source: 'exec', plugin: 'queues', team: 'ops' };
    expect(samples.filter((s) => !s.name.startsWith('exec.'))).toEqual([
      { name: 'jobs_pending', value: 3, tags: { ...base, queue: 'mail' } },
      { name: 'jobs_oldest', value: 12.5, tags: { ...base, queue: 'mail' } },
      { name: 'backup_ok', value: 1, tags: base },
      { name: 'backup', value: 1, tags: base },
    ]);
    expect(valueOf(samples, 'exec.up')).toBe(1);
  });

  it('reads OpenMetrics text when asked to', async () => {
    const file = script('om.sh', `printf '# TYPE temp gauge\\ntemp{room="a"} 21.5\\n# EOF\\n'`);
    const { samples } = await run(plugin({ name: 'om', command: [file], format: 'openmetrics' }));
    expect(samples).toContainEqual({
      name: 'temp',
      value: 21.5,
      tags: { source: 'exec', plugin: 'om', room: 'a' },
    });
  });

  it('passes arguments as they are, with no shell to expand them, unless shell is asked for', async () => {
    const literal = await run(plugin({ name: 'argv', command: ['printf', 'm,t=%s value=1\\n', '$HOME'] }));
    expect(literal.samples[0].tags?.t).toBe('$HOME');
    const shell = await run(
      plugin({ name: 'sh', shell: true, command: ['echo "m,t=$((1+1)) value=1" | cat'] }),
    );
    expect(shell.samples[0].tags?.t).toBe('2');
  });

  it('kills a command that hangs at its timeout, with what it started, and reports it', async () => {
    const pidFile = join(dir, 'sleep.pid');
    const file = script('hang.sh', `sleep 30 &\necho $! > ${pidFile}\nwait`);
    const started = Date.now();
    const { samples, error } = await run(plugin({ name: 'hang', command: [file], timeout: 0.5 }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBe('timed out after 500 ms; killed');
    expect(valueOf(samples, 'exec.up')).toBe(0);
    const sleepPid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(running(process.pid)).toBe(true); // /proc answers here, so the next check can fail
    expect(running(sleepPid)).toBe(false);
  });

  it('reports a command that exits non-zero with its exit code and what it said on stderr', async () => {
    const file = script('fail.sh', `echo 'm value=1'\necho 'database unreachable' >&2\nexit 3`);
    const { samples, error } = await run(plugin({ name: 'fail', command: [file] }));
    expect(error).toBe(`${file} exited with code 3: database unreachable`);
    expect(samples.map((s) => s.name)).toEqual(['exec.up', 'exec.duration']);
  });

  it('stops a command whose output passes max_bytes, and refuses output that is not line protocol', async () => {
    const big = script('big.sh', `yes 'm value=1'`);
    expect((await run(plugin({ name: 'big', command: [big], max_bytes: 4096 }))).error).toBe(
      'output exceeds the limit of 4096 bytes; killed',
    );
    const junk = script('junk.sh', `echo 'hello world'`);
    expect((await run(plugin({ name: 'junk', command: [junk] }))).error).toMatch(/^line 1: invalid field/);
    expect((await run(plugin({ name: 'none', command: [join(dir, 'missing')] }))).error).toMatch(/ENOENT/);
  });

  it('refuses a configuration that would need guessing, naming the field', () => {
    expect(() =>
      parseExecPlugins([{ name: 'x', command: ['a', 'b'], shell: true }], 'RCA_EXEC_PLUGINS'),
    ).toThrow('RCA_EXEC_PLUGINS[0].command: with shell: true, give one command line');
    expect(() => parseExecPlugins([{ name: 'x', command: [] }], 'RCA_EXEC_PLUGINS')).toThrow(
      /RCA_EXEC_PLUGINS\[0\]\.command: command should not be empty/,
    );
    expect(() =>
      parseExecPlugins([{ name: 'x', command: ['a'], format: 'json' }], 'RCA_EXEC_PLUGINS'),
    ).toThrow('RCA_EXEC_PLUGINS[0].format: format must be "influx" or "openmetrics"');
  });
});
