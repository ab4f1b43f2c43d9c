import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readAgentArtifacts } from '@app/agent-core';
import { agentBinaryBuilt, AgentBuildKind, agentCommand, ensureAgentBuilt } from '@app/testing';

const ROOT = resolve(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'dist', 'agent');
/** A first build of the executable on 2 busy cores: esbuild, the SEA blob, postject on 100 MB. */
const BUILD_TIMEOUT_MS = 120_000;

/** Runs the built agent with `args`; stdout, stderr and exit code. */
function runAgent(kind: AgentBuildKind, args: string[], env: Record<string, string> = {}) {
  const { command, args: prefix } = agentCommand(kind);
  const result = spawnSync(command, [...prefix, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const kinds: AgentBuildKind[] = agentBinaryBuilt ? ['bundle', 'binary'] : ['bundle'];

describe('the agent build (npm run build:agent)', () => {
  let stateDir: string;
  beforeAll(() => ensureAgentBuilt(), BUILD_TIMEOUT_MS);
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'rca-agent-build-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it(
    'gives the same bytes for the same inputs (bundle, chunks, tarball and executable)',
    () => {
      const again = mkdtempSync(join(tmpdir(), 'rca-agent-rebuild-'));
      try {
        const result = spawnSync(
          process.execPath,
          [join(ROOT, 'scripts', 'build-agent.js'), '--out', again],
          {
            encoding: 'utf8',
          },
        );
        expect(result.stderr).not.toMatch(/build-agent:/);
        expect(result.status).toBe(0);
        expect(readAgentArtifacts(again)).toEqual(readAgentArtifacts(DIST));
        for (const file of [
          'bundle/main.js',
          'bundle/chunks/dockerode.js',
          'bundle/chunks/kubernetes-client.js',
        ])
          expect(readFileSync(join(again, file)).equals(readFileSync(join(DIST, file)))).toBe(true);
      } finally {
        rmSync(again, { recursive: true, force: true });
      }
    },
    BUILD_TIMEOUT_MS,
  );

  it('keeps the type runtimes and NestJS out of main.js: dockerode, the Kubernetes client and ssh2 are chunks', () => {
    // Long minified files: compare booleans, so a failure does not print megabytes of code.
    const holds = (file: string, text: string) =>
      readFileSync(join(DIST, 'bundle', file), 'utf8').includes(text);
    expect({
      dockerModemInMain: holds('main.js', 'modem'),
      // An ssh2 protocol constant: the chunk's name itself is in main.js (its loader).
      ssh2InMain: holds('main.js', 'CHANNEL_OPEN_CONFIRMATION'),
      kubernetesModelsInMain: holds('main.js', 'V1PodSpec'),
      nestInMain: holds('main.js', '@nestjs'),
      dockerChunk: holds('chunks/dockerode.js', 'modem'),
      kubernetesChunk: holds('chunks/kubernetes-client.js', 'V1PodSpec'),
      ssh2Chunk: holds('chunks/ssh2.js', 'CHANNEL_OPEN_CONFIRMATION'),
    }).toEqual({
      dockerModemInMain: false,
      ssh2InMain: false,
      kubernetesModelsInMain: false,
      nestInMain: false,
      dockerChunk: true,
      kubernetesChunk: true,
      ssh2Chunk: true,
    });
  });

  it('answers --version and --help the same from the bundle and the executable', () => {
    const answers = kinds.map((kind) => [runAgent(kind, ['--version']), runAgent(kind, ['--help'])]);
    for (const [version, help] of answers) {
      expect(version).toEqual({ code: 0, stdout: `${readAgentArtifacts(DIST)!.version}\n`, stderr: '' });
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: rca-agent/);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
  });

  it.each(kinds)(
    'prints one server batch with --once from the %s, the same metrics as the other build',
    (kind) => {
      const once = runAgent(kind, ['--once'], { RCA_STATE_DIR: stateDir });
      expect(once.code).toBe(0);
      const names = (JSON.parse(once.stdout) as { samples: { name: string }[] }).samples.map((s) => s.name);
      expect(names).toContain('system.memory.total');
      const other = runAgent(kind === 'bundle' && agentBinaryBuilt ? 'binary' : 'bundle', ['--once'], {
        RCA_STATE_DIR: stateDir,
      });
      const otherNames = (JSON.parse(other.stdout) as { samples: { name: string }[] }).samples.map(
        (s) => s.name,
      );
      expect(new Set(names)).toEqual(new Set(otherNames));
    },
  );

  it('collects a server batch without Intl, whose ICU data and code would stay resident (~8 MB)', () => {
    // Records every entry into ICU-backed locale APIs; the agent must not call them on its own paths.
    const preload = join(stateDir, 'record-intl.js');
    writeFileSync(
      preload,
      `const used = new Set();
const watch = (owner, name, label) => {
  const original = owner[name];
  owner[name] = new Proxy(original, {
    apply: (t, self, args) => (used.add(label), Reflect.apply(t, self, args)),
    construct: (t, args, target) => (used.add(label), Reflect.construct(t, args, target)),
  });
};
for (const name of Object.getOwnPropertyNames(Intl)) if (typeof Intl[name] === 'function') watch(Intl, name, 'Intl.' + name);
for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) watch(Date.prototype, name, 'Date#' + name);
watch(Number.prototype, 'toLocaleString', 'Number#toLocaleString');
watch(String.prototype, 'localeCompare', 'String#localeCompare');
process.on('exit', () => process.stderr.write('locale APIs used: ' + JSON.stringify([...used]) + '\\n'));
`,
    );
    const { args } = agentCommand('bundle');
    const result = spawnSync(process.execPath, ['--require', preload, ...args, '--once'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, RCA_STATE_DIR: stateDir },
      timeout: 30_000,
    });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ samples: expect.any(Array) });
    expect(/locale APIs used: (.*)/.exec(result.stderr)?.[1]).toBe('[]');
  });

  it.each(kinds)('loads the Docker chunk from the %s only when a Docker agent runs', (kind) => {
    // An unreachable daemon: the collectors report failures, but the chunk must load and run.
    const once = runAgent(kind, ['--once'], {
      RCA_STATE_DIR: stateDir,
      RCA_AGENT_TYPE: 'docker',
      DOCKER_HOST: `unix://${join(stateDir, 'no-docker.sock')}`,
    });
    expect(once.stderr).not.toMatch(/Cannot find module|native addons/);
    expect(once.code).toBe(0);
    expect(JSON.parse(once.stdout)).toMatchObject({ samples: expect.any(Array) });
  });

  it.each(kinds)('loads the OTLP protocol chunk from the %s only when the OTLP intake is on', (kind) => {
    const holds = (file: string, text: string) =>
      readFileSync(join(DIST, 'bundle', file), 'utf8').includes(text);
    // A type name only the generated OTLP code spells.
    expect({
      inMain: holds('main.js', 'ExponentialHistogramDataPoint'),
      inChunk: holds('chunks/otlp-protocol.js', 'ExponentialHistogramDataPoint'),
    }).toEqual({ inMain: false, inChunk: true });
    const once = runAgent(kind, ['--once'], {
      RCA_STATE_DIR: stateDir,
      RCA_OTLP_ADDRESS: '127.0.0.1:0',
      RCA_LOG_LEVEL: 'warn',
    });
    expect(once.code).toBe(0);
    // A chunk that failed to load would be the collector otlp's error, logged by --once.
    expect(once.stderr).not.toMatch(/otlp|Cannot find module/);
    expect(JSON.parse(once.stdout)).toMatchObject({ samples: expect.any(Array) });
  });
});
