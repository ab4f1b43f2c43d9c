import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBuildExists, packAgent } from './agent-package';

describe(packAgent.name, () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rca-agent-package-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A build output shaped like `npm run build`'s: the agent requires libs by relative path (tsc-alias). */
  function fakeBuild() {
    const dist = join(dir, 'dist');
    mkdirSync(join(dist, 'apps', 'agent', 'src'), { recursive: true });
    mkdirSync(join(dist, 'libs', 'greeting', 'src'), { recursive: true });
    writeFileSync(
      join(dist, 'apps', 'agent', 'src', 'main.js'),
      '#!/usr/bin/env node\nconsole.log(require("../../../libs/greeting/src/index.js").greeting);\n',
    );
    writeFileSync(join(dist, 'apps', 'agent', 'src', 'main.js.map'), '{}');
    writeFileSync(join(dist, 'libs', 'greeting', 'src', 'index.js'), 'exports.greeting = "agent says hi";\n');
    const packageJson = join(dir, 'package.json');
    writeFileSync(packageJson, JSON.stringify({ name: 'monorepo', version: '1.4.2', dependencies: {} }));
    return { distDir: dist, packageJson };
  }

  it('builds an npm package that installs globally and runs the agent as `rca-agent`', async () => {
    const source = fakeBuild();
    expect(agentBuildExists(source)).toBe(true);
    const tarball = join(dir, 'rca-agent.tgz');
    writeFileSync(tarball, await packAgent(source));
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
    expect(listing).toContain('package/package.json');
    expect(listing).not.toContain('.map');

    const prefix = join(dir, 'global');
    execFileSync(
      'npm',
      ['install', '-g', '--offline', '--no-fund', '--no-audit', '--prefix', prefix, tarball],
      {
        encoding: 'utf8',
        env: { ...process.env, npm_config_cache: join(dir, 'npm-cache') },
      },
    );
    expect(execFileSync(join(prefix, 'bin', 'rca-agent'), { encoding: 'utf8' }).trim()).toBe('agent says hi');
    const manifest = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    ) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: 'rca-agent', version: '1.4.2' });
  });

  it('reports a missing build instead of packing an empty package', () => {
    expect(agentBuildExists({ distDir: join(dir, 'dist'), packageJson: join(dir, 'package.json') })).toBe(
      false,
    );
  });
});
