import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricSample } from '@app/contracts';
import { PartialCollectionError } from '../agent-type';
import { PluginCollector } from './plugin-collector';
import { listPluginFiles, PluginDirectoryError, PluginFile } from './plugin-directory';

/** Real plugin modules, as an operator would drop them into RCA_PLUGIN_DIR. */
const PLUGINS: Record<string, string> = {
  'queue-depth.js': `
    module.exports = {
      name: 'queue-depth',
      timeout: 1,
      async collect(ctx) {
        ctx.log('measuring');
        return [
          { name: 'queue_depth', value: 7, tags: { queue: 'mail' } },
          { name: 'queue_oldest_seconds', value: 12.5, tags: { queue: 'mail' } },
        ];
      },
    };`,
  // TypeScript's CommonJS output of \`export default definePlugin({...})\`.
  'compiled.js': `
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.default = { name: 'compiled', async collect() { return [{ name: 'compiled_ok', value: 1 }]; } };`,
  'esm.mjs': `export default { name: 'esm', async collect() { return [{ name: 'esm_ok', value: 1 }]; } };`,
  'throws.js': `module.exports = { name: 'throws', async collect() { throw new Error('database unreachable'); } };`,
  'hangs.js': `module.exports = { name: 'hangs', timeout: 0.3, collect() { return new Promise(() => {}); } };`,
  'spins.js': `module.exports = { name: 'spins', timeout: 0.3, async collect() { for (;;) {} } };`,
  'crashes.js': `module.exports = { name: 'crashes', interval: 1, timeout: 1, collect() {
    setTimeout(() => { throw new Error('boom outside the promise'); }, 10);
    return new Promise(() => {});
  } };`,
  'exits.js': `module.exports = { name: 'exits', interval: 1, timeout: 1, async collect() { process.exit(3); } };`,
  'bad-export.js': `module.exports = { name: 'bad-export', run() { return []; } };`,
  'misnamed.js': `module.exports = { name: 'something-else', async collect() { return []; } };`,
  'bad-sample.js': `module.exports = { name: 'bad-sample', async collect() { return [{ name: 'x', value: 'seven' }]; } };`,
  'syntax.js': `module.exports = {`,
};

/** One collection's samples and error, as the runner would see them. */
async function collect(collector: PluginCollector): Promise<{ samples: MetricSample[]; error?: string }> {
  try {
    return { samples: await collector.collect() };
  } catch (error) {
    return {
      samples: error instanceof PartialCollectionError ? error.samples : [],
      error: (error as Error).message,
    };
  }
}

describe('in-process plugins', () => {
  let dir: string;
  let files: PluginFile[];
  const collectors: PluginCollector[] = [];
  const logged: string[] = [];
  const plugin = (name: string) => {
    const collector = new PluginCollector(
      files.find((f) => f.name === name)!,
      2,
      (line) => logged.push(`${name}: ${line}`),
    );
    collectors.push(collector);
    return collector;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rca-plugins-'));
    chmodSync(dir, 0o755);
    for (const [file, code] of Object.entries(PLUGINS)) writeFileSync(join(dir, file), code, { mode: 0o644 });
    writeFileSync(join(dir, 'README.md'), 'not a plugin');
    files = listPluginFiles(dir);
  });
  afterAll(() => {
    for (const collector of collectors) collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores a good plugin's samples tagged with their source and reports it up", async () => {
    const collector = plugin('queue-depth');
    const { samples, error } = await collect(collector);
    expect(error).toBeUndefined();
    expect(samples).toContainEqual({
      name: 'queue_depth',
      value: 7,
      tags: { source: 'plugin', plugin: 'queue-depth', queue: 'mail' },
    });
    expect(samples.find((s) => s.name === 'plugin.up')?.value).toBe(1);
    expect(collector.health()).toEqual([
      expect.objectContaining({ name: 'plugin:queue-depth', up: true, series: 2 }),
    ]);
    expect(logged).toContain('queue-depth: measuring');
  });

  it('loads TypeScript’s CommonJS output and ES modules', async () => {
    expect((await collect(plugin('compiled'))).samples.map((s) => s.name)).toContain('compiled_ok');
    expect((await collect(plugin('esm'))).samples.map((s) => s.name)).toContain('esm_ok');
  });

  it('reports a plugin that throws as down with its error, and keeps running it', async () => {
    const collector = plugin('throws');
    const { samples, error } = await collect(collector);
    expect(error).toBe('database unreachable');
    expect(samples.find((s) => s.name === 'plugin.up')?.value).toBe(0);
    expect(collector.health()[0]).toMatchObject({ up: false, lastError: 'database unreachable', series: 0 });
  });

  it.each([
    ['hangs', 'never settles'],
    ['spins', 'spins in a loop'],
  ])('stops the worker of a plugin that %s (%s) at its timeout', async (name) => {
    const collector = plugin(name);
    let result = await collect(collector);
    // The collection waits at most its timeout; the run's verdict comes with a later collection.
    for (let i = 0; i < 10 && result.error === undefined; i++) {
      await new Promise((r) => setTimeout(r, 200));
      result = await collect(collector);
    }
    expect(result.error).toBe('timed out after 300 ms; its worker was stopped');
    expect(collector.health()[0]).toMatchObject({ up: false, series: 0 });
  });

  it.each([
    ['crashes', /^crashed: boom outside the promise$/],
    ['exits', /^its worker exited \(code 3\)$/],
  ])('survives a plugin that %s, reporting it, and starts it again at its next run', async (name, reason) => {
    const collector = plugin(name);
    const { error } = await collect(collector);
    expect(error).toMatch(reason);
    expect(collector.health()[0]).toMatchObject({ up: false, lastError: expect.stringMatching(reason) });
    // This process (the agent) is still here, and the plugin is loaded again for its next run (1 s on).
    await new Promise((r) => setTimeout(r, 1000));
    const before = collector.health()[0].lastRunAt;
    expect((await collect(collector)).error).toMatch(reason);
    expect(collector.health()[0].lastRunAt).toBeGreaterThan(before);
  });

  it.each([
    ['bad-export', 'its default export has no collect() function'],
    ['misnamed', 'its default export is named "something-else"; it must be named after its file, "misnamed"'],
    ['bad-sample', 'sample 0 (x): value must be a number'],
    ['syntax', /^cannot load it: .*Unexpected end of input/],
  ])('refuses %s with its reason', async (name, reason) => {
    const collector = plugin(name);
    const { error } = await collect(collector);
    if (typeof reason === 'string') expect(error).toBe(reason);
    else expect(error).toMatch(reason);
    expect(collector.health()[0]).toMatchObject({ name: `plugin:${name}`, up: false });
  });

  it('does not load a module that failed to load again within a minute', async () => {
    const counter = join(dir, 'loads.txt');
    writeFileSync(
      join(dir, 'counted.js'),
      `require('node:fs').appendFileSync(${JSON.stringify(counter)}, 'x'); module.exports = { name: 'wrong' };`,
      { mode: 0o644 },
    );
    const collector = new PluginCollector({ name: 'counted', path: join(dir, 'counted.js') }, 2);
    collectors.push(collector);
    const first = await collect(collector);
    const second = await collect(collector);
    expect(second.error).toBe(first.error);
    expect(first.error).toBe('its default export has no collect() function');
    expect(readFileSync(counter, 'utf8')).toBe('x');
  });

  describe('the plugin directory', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'rca-plugin-dir-'));
      chmodSync(root, 0o755);
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('lists only module files, sorted, ignoring the rest', () => {
      expect(files.map((f) => f.name)).toEqual(
        Object.keys(PLUGINS)
          .sort()
          .map((f) => f.replace(/\.m?js$/, '')),
      );
      expect(files.every((f) => f.refused === undefined)).toBe(true);
    });

    it('refuses a directory writable by others', () => {
      chmodSync(root, 0o777);
      expect(() => listPluginFiles(root)).toThrow(PluginDirectoryError);
      expect(() => listPluginFiles(root)).toThrow(/is writable by group or others \(mode 0777\)/);
    });

    it('refuses a directory writable by its group, and one that does not exist', () => {
      chmodSync(root, 0o775);
      expect(() => listPluginFiles(root)).toThrow(/writable by group or others \(mode 0775\)/);
      expect(() => listPluginFiles(join(root, 'missing'))).toThrow(/cannot read/);
    });

    it('refuses a world-writable file and a symbolic link, loading the others', async () => {
      writeFileSync(join(root, 'good.js'), PLUGINS['queue-depth.js'].replace(/queue-depth/g, 'good'));
      writeFileSync(join(root, 'open.js'), PLUGINS['queue-depth.js']);
      chmodSync(join(root, 'open.js'), 0o666);
      symlinkSync(join(root, 'good.js'), join(root, 'linked.js'));
      const listed = listPluginFiles(root);
      expect(listed.map((f) => [f.name, f.refused])).toEqual([
        ['good', undefined],
        ['linked', 'linked.js is a symbolic link; plugins must be plain files'],
        ['open', 'open.js is writable by group or others (mode 0666); not loaded'],
      ]);
      const refused = new PluginCollector(listed[2], 2);
      collectors.push(refused);
      expect((await collect(refused)).error).toBe(
        'open.js is writable by group or others (mode 0666); not loaded',
      );
      expect(refused.health()[0]).toMatchObject({ name: 'plugin:open', up: false });
    });

    it("refuses files and directories owned by another user than the agent's or root", () => {
      const owner = { uid: 4242 };
      // Owned by root (this test's files, or the directory when run as root): allowed.
      if (process.getuid?.() === 0) {
        writeFileSync(join(root, 'theirs.js'), PLUGINS['queue-depth.js']);
        chownSync(join(root, 'theirs.js'), 1234, 1234);
        expect(listPluginFiles(root, owner)[0].refused).toBe(
          "theirs.js is owned by uid 1234, not by the agent's user (uid 4242) or root; not loaded",
        );
        const sub = join(root, 'sub');
        mkdirSync(sub, { mode: 0o755 });
        chownSync(sub, 1234, 1234);
        expect(() => listPluginFiles(sub, owner)).toThrow(/is owned by uid 1234/);
      } else {
        expect(() => listPluginFiles(root, owner)).toThrow(/is owned by uid/);
      }
    });
  });
});
