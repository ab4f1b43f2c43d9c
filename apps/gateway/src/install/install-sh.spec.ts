import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseShell } from 'shell-quote';
import { agentTypes } from '@app/agent-core';
import { requireTool } from '@app/testing';

const SCRIPT = join(resolve(__dirname, '..', '..', '..', '..'), 'deploy', 'install', 'install.sh');
const TOKEN = 'rca_et_AAAAbbbbCCCCdddd1234567abcdef';
const NATS_URL = 'nats://nats-1.example:4222,nats://nats-2.example:4222';
const PLATFORM_URL = 'https://rca.example.test';
const CA_PIN = `sha256:${'ab'.repeat(32)}`;
const shellcheck = requireTool('shellcheck');

/** The arguments the generated Linux command passes to `sh -s --`, exactly as sh would. */
function generatedArguments(): string[] {
  const { commands } = agentTypes.buildDeployment('server', {
    platformUrl: PLATFORM_URL,
    natsUrl: NATS_URL,
    enrollmentToken: TOKEN,
    environment: 'prod-1',
    config: { log_level: 'debug' },
    agentImage: 'unused',
    caPin: CA_PIN,
  });
  const words = parseShell(commands.find((c) => c.platform === 'linux')!.command);
  return words.slice(words.indexOf('--') + 1).filter((w): w is string => typeof w === 'string');
}

/** key='value' lines of the env file, as sh reads them. */
function readEnvFile(file: string): Record<string, string> {
  const out = execFileSync('sh', ['-c', 'set -a; . "$1"; env', 'sh', file], { encoding: 'utf8', env: {} });
  return Object.fromEntries(
    out
      .split('\n')
      .filter((line) => line.startsWith('RCA_'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('deploy/install/install.sh', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'rca-install-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    spawnSync('sh', [SCRIPT, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: root } });

  shellcheck.it('is shellcheck-clean POSIX sh', () => {
    const result = spawnSync('shellcheck', ['--shell=sh', '--severity=style', SCRIPT], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('dry-runs the generated Linux command into a temp root: 0600 config, systemd unit, nothing started', () => {
    const result = run(...generatedArguments(), '--dry-run', '--root', root, '--os', 'linux');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const envFile = join(root, 'etc', 'rca-agent', 'agent.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readEnvFile(envFile)).toEqual({
      RCA_TOKEN: TOKEN,
      RCA_NATS_URL: NATS_URL,
      RCA_PLATFORM_URL: PLATFORM_URL,
      RCA_CA_PIN: CA_PIN,
      RCA_AGENT_TYPE: 'server',
      RCA_LOG_LEVEL: 'debug',
      RCA_STATE_DIR: '/var/lib/rca-agent',
    });
    const unit = readFileSync(join(root, 'etc', 'systemd', 'system', 'rca-agent.service'), 'utf8');
    expect(unit).toContain('EnvironmentFile=/etc/rca-agent/agent.env');
    expect(unit).toMatch(/^ExecStart=\/\S+rca-agent$/m);
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(result.stdout).toContain(
      `[dry-run] npm install -g --no-fund --no-audit ${PLATFORM_URL}/downloads/rca-agent.tgz`,
    );
    expect(result.stdout).toContain('[dry-run] systemctl enable rca-agent.service');
    expect(result.stdout).toContain('[dry-run] systemctl restart rca-agent.service');
  });

  it('writes a launchd plist on macOS', () => {
    const result = run(
      ...generatedArguments(),
      '--dry-run',
      '--root',
      root,
      '--os',
      'macos',
      '--environment',
      'prod-1',
    );
    expect(result.status).toBe(0);
    const plist = readFileSync(join(root, 'Library', 'LaunchDaemons', 'io.rca.agent.plist'), 'utf8');
    expect(plist).toContain('<string>io.rca.agent</string>');
    expect(plist).toContain('. /usr/local/etc/rca-agent/agent.env');
    expect(readEnvFile(join(root, 'usr', 'local', 'etc', 'rca-agent', 'agent.env')).RCA_ENVIRONMENT).toBe(
      'prod-1',
    );
    expect(result.stdout).toContain(
      '[dry-run] launchctl bootstrap system /Library/LaunchDaemons/io.rca.agent.plist',
    );
  });

  it.each([
    ['a missing token', ['--nats-url', NATS_URL, '--platform-url', PLATFORM_URL], /--token is required/],
    ['a missing platform URL', ['--token', TOKEN, '--nats-url', NATS_URL], /--platform-url is required/],
    [
      'a value that could break out of the config file',
      ['--token', "x'; touch /tmp/pwned; '", '--nats-url', NATS_URL, '--platform-url', PLATFORM_URL],
      /--token contains a quote/,
    ],
    [
      'a CA pin that is not a SHA-256',
      ['--token', TOKEN, '--nats-url', NATS_URL, '--platform-url', PLATFORM_URL, '--ca-pin', 'sha256:abc'],
      /--ca-pin must be sha256:/,
    ],
    [
      'an unknown log level',
      ['--token', TOKEN, '--nats-url', NATS_URL, '--platform-url', PLATFORM_URL, '--log-level', 'loud'],
      /--log-level must be/,
    ],
    [
      'an unknown option',
      ['--token', TOKEN, '--nats-url', NATS_URL, '--colour', 'red'],
      /unknown option: --colour/,
    ],
    [
      '--root without --dry-run',
      ['--token', TOKEN, '--nats-url', NATS_URL, '--platform-url', PLATFORM_URL, '--root', '/tmp/x'],
      /only allowed with --dry-run/,
    ],
  ])('refuses %s and writes nothing', (_what, args, message) => {
    const result = run(...args, ...(args.includes('--root') ? [] : ['--dry-run', '--root', root]));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(spawnSync('find', [root, '-type', 'f'], { encoding: 'utf8' }).stdout).toBe('');
  });
});
