import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AgentArtifacts, agentTypes } from '@app/agent-core';
import { requireTool, TempDirs } from '@app/testing';

const SCRIPT = join(resolve(__dirname, '..', '..', '..', '..'), 'deploy', 'install', 'install.sh');
const TOKEN = 'rca_et_AAAAbbbbCCCCdddd1234567abcdef';
const NATS_URL = 'nats://nats-1.example:4222,nats://nats-2.example:4222';
const CA_PIN = `sha256:${'ab'.repeat(32)}`;
/** What every run needs; each refusal below adds the one thing wrong. */
const REQUIRED_OPTIONS = [
  '--token',
  TOKEN,
  '--nats-url',
  NATS_URL,
  '--platform-url',
  'https://rca.example.test',
];
const shellcheck = requireTool('shellcheck');

/** Bytes of `file` in the page cache (util-linux fincore). */
function cachedBytes(file: string): number {
  return Number(
    execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }),
  );
}

/** Whether GNU dd can drop a file written in `dir` from the page cache and fincore can tell. */
function pageCacheDroppable(dir: string): boolean {
  const probe = mkdtempSync(join(dir, 'rca-page-cache-'));
  try {
    const file = join(probe, 'file');
    writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    if (cachedBytes(file) === 0) return false;
    execFileSync('dd', [`of=${file}`, 'oflag=nocache', 'conv=notrunc,fdatasync', 'count=0', 'status=none']);
    return cachedBytes(file) === 0;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** One ustar entry (enough for a two-file bundle): name, mode, content. */
function tarEntry(name: string, data: Buffer, type: '0' | '5'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write(`${(type === '5' ? 0o755 : 0o644).toString(8).padStart(7, '0')}\0`, 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write('ustar\0' + '00', 257);
  const sum = header.reduce((a, b) => a + b, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** What the gateway serves under /downloads, shaped like `npm run build:agent`'s files. */
const BINARY = Buffer.from('#!/bin/sh\necho "self-contained agent $*"\n');
const BUNDLE = gzipSync(
  Buffer.concat([
    tarEntry('rca-agent/', Buffer.alloc(0), '5'),
    tarEntry('rca-agent/main.js', Buffer.from('console.log("bundled agent");\n'), '0'),
    Buffer.alloc(1024),
  ]),
);
const ARTIFACTS: AgentArtifacts = {
  version: '0.1.0',
  bundle: { file: 'rca-agent-bundle.tgz', size: BUNDLE.length, sha256: sha256(BUNDLE) },
  binaries: { 'linux-x64': { file: 'rca-agent-linux-x64', size: BINARY.length, sha256: sha256(BINARY) } },
};

/** The Linux command the platform generates. */
function generatedCommand(platformUrl: string, artifacts: AgentArtifacts | null = ARTIFACTS): string {
  const { commands } = agentTypes.buildDeployment('server', {
    platformUrl,
    natsUrl: NATS_URL,
    enrollmentToken: TOKEN,
    environment: 'prod-1',
    config: { log_level: 'debug' },
    agentImage: 'unused',
    caPin: CA_PIN,
    artifacts: artifacts ?? undefined,
  });
  return commands.find((c) => c.platform === 'linux')!.command;
}

/** The arguments the generated command passes to the script (after `sudo sh <file>`), exactly as sh would. */
function generatedArguments(platformUrl: string, artifacts: AgentArtifacts | null = ARTIFACTS): string[] {
  const fns = `curl() { :; }\nsudo() { shift 2; for a in "$@"; do printf '%s\\0' "$a" >&3; done; cat >/dev/null; }`;
  const out = execFileSync('sh', ['-c', `exec 3>&1\n${fns}\n${generatedCommand(platformUrl, artifacts)}`], {
    encoding: 'utf8',
  });
  return out.split('\0').slice(0, -1);
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
  let platform: Server;
  let platformUrl: string;
  /** What the fake platform serves per path (a test swaps a file to tamper with it). */
  let served: Record<string, Buffer>;

  beforeAll(async () => {
    platform = createServer((req, res) => {
      const body = served[req.url ?? ''];
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((r) => platform.listen(0, '127.0.0.1', r));
    platformUrl = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => platform.close(r)));
  const dirs = new TempDirs();
  beforeEach(() => {
    root = dirs.make('rca-install-');
    served = { '/downloads/rca-agent-linux-x64': BINARY, '/downloads/rca-agent-bundle.tgz': BUNDLE };
  });
  afterEach(() => dirs.removeAll());

  /** Runs `sh <args>` without blocking this process (install.sh downloads from the fake platform above). */
  const sh = (args: string[], stdin: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn('sh', args, { env: { PATH: process.env.PATH, TMPDIR: root } });
      // A script that refuses its arguments exits before reading its input: EPIPE is expected then.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('close', (status) => done({ status, stdout, stderr }));
    });
  /** install.sh given the token on stdin, as the generated command pipes it for `--token-file -`. */
  const run = (...args: string[]) => sh([SCRIPT, ...args], `${TOKEN}\n`);
  /** A dry run into this test's root: the generated command's arguments, then `more`. */
  const dryRun = (args: string[], ...more: string[]) => run(...args, '--dry-run', '--root', root, ...more);
  /** Every file the script wrote under the root (none, when it refused). */
  const filesWritten = () => spawnSync('find', [root, '-type', 'f'], { encoding: 'utf8' }).stdout;
  const withoutTokenFile = (args: string[]) =>
    args.filter((arg, i) => arg !== '--token-file' && args[i - 1] !== '--token-file');
  const installed = (path: string) => join(root, path);

  shellcheck.it('is shellcheck-clean POSIX sh', () => {
    const result = spawnSync('shellcheck', ['--shell=sh', '--severity=style', SCRIPT], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('dry-runs the generated Linux command into a temp root: 0600 config, systemd unit, nothing started', async () => {
    const result = await dryRun(generatedArguments(platformUrl), '--os', 'linux', '--arch', 'x86_64');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const envFile = join(root, 'etc', 'rca-agent', 'agent.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readEnvFile(envFile)).toEqual({
      RCA_TOKEN: TOKEN,
      RCA_NATS_URL: NATS_URL,
      RCA_PLATFORM_URL: platformUrl,
      RCA_CA_PIN: CA_PIN,
      RCA_AGENT_TYPE: 'server',
      RCA_LOG_LEVEL: 'debug',
      RCA_STATE_DIR: '/var/lib/rca-agent',
    });
    const unit = readFileSync(join(root, 'etc', 'systemd', 'system', 'rca-agent.service'), 'utf8');
    expect(unit).toContain('EnvironmentFile=/etc/rca-agent/agent.env');
    expect(unit).toMatch(/^ExecStart=\/\S+rca-agent$/m);
    expect(unit).toContain('WantedBy=multi-user.target');
    // Its own system user, owning only its 0700 state directory, in a read-only file system.
    for (const line of [
      'User=rca-agent',
      'StateDirectory=rca-agent',
      'StateDirectoryMode=0700',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/rca-agent',
      'ProtectHome=read-only',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
    ])
      expect(unit.split('\n')).toContain(line);
    expect(unit).not.toContain('DynamicUser');
    expect(unit).not.toContain(TOKEN);
    expect(statSync(installed('var/lib/rca-agent')).mode & 0o777).toBe(0o700);
    expect(result.stdout).toMatch(
      /^\[dry-run\] useradd --system --user-group --no-create-home --home-dir \/var\/lib\/rca-agent --shell \/\S+\/nologin --comment rca-agent \(Agent Connector\) rca-agent$/m,
    );
    expect(result.stdout).toContain('[dry-run] chown -R rca-agent:rca-agent /var/lib/rca-agent');
    expect(result.stdout.indexOf('useradd')).toBeLessThan(result.stdout.indexOf('systemctl restart'));
    // Measured: the server type without JIT keeps ~5 MiB less RSS at the same CPU (BENCHMARKS.md).
    expect(unit).toContain('Environment=NODE_OPTIONS=--jitless');
    expect(unit).toContain('Environment=MALLOC_MMAP_THRESHOLD_=131072');
    expect(result.stdout).toContain(`verified SHA-256 ${ARTIFACTS.binaries['linux-x64']!.sha256}`);
    expect(result.stdout).toContain('[dry-run] systemctl enable rca-agent.service');
    expect(result.stdout).toContain('[dry-run] systemctl restart rca-agent.service');
  });

  it('installs the verified self-contained executable on Linux x64, with no Node.js involved', async () => {
    const result = await dryRun(generatedArguments(platformUrl), '--os', 'linux', '--arch', 'x86_64');
    expect(result.stderr).toBe('');
    const agent = installed('usr/local/bin/rca-agent');
    expect(readFileSync(agent)).toEqual(BINARY);
    expect(statSync(agent).mode & 0o777).toBe(0o755);
    expect(execFileSync(agent, ['--version'], { encoding: 'utf8' })).toBe('self-contained agent --version\n');
    expect(existsSync(installed('usr/local/lib/rca-agent'))).toBe(false);
  });

  // Needs util-linux's fincore and a file system whose cache can be dropped (not tmpfs).
  (pageCacheDroppable(tmpdir()) ? it : it.skip)(
    'leaves the installed executable out of the page cache, so the service maps it as after a reboot',
    async () => {
      const result = await run(
        ...generatedArguments(platformUrl),
        '--dry-run',
        '--root',
        root,
        '--os',
        'linux',
        '--arch',
        'x86_64',
      );
      expect(result.status).toBe(0);
      expect(cachedBytes(installed('usr/local/bin/rca-agent'))).toBe(0);
    },
  );

  it.each([
    ['the executable', ['--arch', 'x86_64'], '/downloads/rca-agent-linux-x64'],
    ['the bundle', ['--arch', 'aarch64'], '/downloads/rca-agent-bundle.tgz'],
  ])('refuses %s when its bytes differ from the SHA-256 pinned in the command', async (_what, arch, path) => {
    served[path] = Buffer.concat([served[path], Buffer.from('\n# tampered\n')]);
    const result = await dryRun(generatedArguments(platformUrl), '--os', 'linux', ...arch);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/SHA-256 mismatch for .*refusing to install it/);
    expect(existsSync(installed('usr/local/bin/rca-agent'))).toBe(false);
    expect(existsSync(installed('usr/local/lib/rca-agent'))).toBe(false);
    expect(existsSync(installed('etc/systemd/system/rca-agent.service'))).toBe(false);
    expect(filesWritten()).toBe('');
  });

  it('refuses to install from a command that pins no SHA-256', async () => {
    const result = await dryRun(generatedArguments(platformUrl, null));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/--bundle-sha256 is required/);
    expect(filesWritten()).toBe('');
  });

  it('installs the verified bundle and a Node.js launcher where no executable is built (Linux arm64)', async () => {
    const result = await dryRun(generatedArguments(platformUrl), '--os', 'linux', '--arch', 'aarch64');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`verified SHA-256 ${ARTIFACTS.bundle.sha256}`);
    expect(readFileSync(installed('usr/local/lib/rca-agent/main.js'), 'utf8')).toContain('bundled agent');
    expect(readFileSync(installed('usr/local/bin/rca-agent'), 'utf8')).toMatch(
      /^exec "\/\S+\/node" \/usr\/local\/lib\/rca-agent\/main\.js "\$@"$/m,
    );
  });

  it('reads the token from --token-file, so it never appears among the process arguments', async () => {
    const tokenFile = join(root, 'token');
    writeFileSync(tokenFile, `${TOKEN}\r\n`, { mode: 0o600 });
    const withoutToken = withoutTokenFile(generatedArguments(platformUrl));
    const result = await dryRun(withoutToken, '--token-file', tokenFile, '--os', 'linux');
    expect(result.stderr).toBe('');
    expect(withoutToken).not.toContain(TOKEN);
    expect(readEnvFile(join(root, 'etc', 'rca-agent', 'agent.env')).RCA_TOKEN).toBe(TOKEN);
  });

  it('refuses --token-file beside --token, or a file without a token', async () => {
    const empty = join(root, 'empty');
    writeFileSync(empty, '\n');
    const both = await dryRun(generatedArguments(platformUrl), '--token', TOKEN);
    expect(both.stderr).toMatch(/not both/);
    const none = await dryRun(withoutTokenFile(generatedArguments(platformUrl)), '--token-file', empty);
    expect(none.stderr).toMatch(/holds no token/);
    expect([both.status, none.status]).toEqual([1, 1]);
  });

  it('runs the generated command as pasted: the token travels on stdin, never among any argv', async () => {
    served['/install.sh'] = readFileSync(SCRIPT);
    const argvLog = join(root, 'argv.log');
    // Only sudo is replaced (it would ask for a password): it logs its argv and runs the script in a dry run.
    const sudo = `sudo() { printf '%s\\n' "$*" >>'${argvLog}'; "$@" --dry-run --root '${root}' --os linux --arch x86_64; }`;
    const result = await sh(['-c', `${sudo}\n${generatedCommand(platformUrl)}`], '');
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(readEnvFile(join(root, 'etc', 'rca-agent', 'agent.env')).RCA_TOKEN).toBe(TOKEN);
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toMatch(/^sh \S+ --token-file - --nats-url /);
    expect(argv).not.toContain(TOKEN);
    // The downloaded script's temp file is gone.
    expect(existsSync(argv.split(' ')[1])).toBe(false);
  });

  it('refuses a token with a newline read from stdin', async () => {
    const result = await sh(
      [SCRIPT, ...generatedArguments(platformUrl), '--dry-run', '--root', root],
      `${TOKEN}\nsecond line\n`,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--token contains a newline/);
  });

  it('writes a launchd plist on macOS', async () => {
    const result = await dryRun(generatedArguments(platformUrl), '--os', 'macos', '--environment', 'prod-1');
    expect(result.status).toBe(0);
    const plist = readFileSync(join(root, 'Library', 'LaunchDaemons', 'io.rca.agent.plist'), 'utf8');
    expect(plist).toContain('<string>io.rca.agent</string>');
    expect(plist).toContain('. /usr/local/etc/rca-agent/agent.env');
    // launchd runs it as root (no UserName): the state directory is root-only instead.
    expect(statSync(installed('usr/local/var/lib/rca-agent')).mode & 0o777).toBe(0o700);
    expect(result.stdout).not.toContain('useradd');
    expect(readEnvFile(join(root, 'usr', 'local', 'etc', 'rca-agent', 'agent.env')).RCA_ENVIRONMENT).toBe(
      'prod-1',
    );
    expect(result.stdout).toContain(
      '[dry-run] launchctl bootstrap system /Library/LaunchDaemons/io.rca.agent.plist',
    );
  });

  it.each([
    [
      'a missing token',
      ['--nats-url', NATS_URL, '--platform-url', 'https://rca.example.test'],
      /--token is required/,
    ],
    ['a missing platform URL', ['--token', TOKEN, '--nats-url', NATS_URL], /--platform-url is required/],
    [
      'a value that could break out of the config file',
      [
        '--token',
        "x'; touch /tmp/pwned; '",
        '--nats-url',
        NATS_URL,
        '--platform-url',
        'https://rca.example.test',
      ],
      /--token contains a quote/,
    ],
    [
      'an agent SHA-256 that is not 64 hex digits',
      [...REQUIRED_OPTIONS, '--bundle-sha256', 'ABC'],
      /--bundle-sha256 must be 64 hex digits/,
    ],
    [
      'a CA pin that is not a SHA-256',
      [...REQUIRED_OPTIONS, '--ca-pin', 'sha256:abc'],
      /--ca-pin must be sha256:/,
    ],
    ['an unknown log level', [...REQUIRED_OPTIONS, '--log-level', 'loud'], /--log-level must be/],
    [
      'an unknown option',
      ['--token', TOKEN, '--nats-url', NATS_URL, '--colour', 'red'],
      /unknown option: --colour/,
    ],
    ['--root without --dry-run', [...REQUIRED_OPTIONS, '--root', '/tmp/x'], /only allowed with --dry-run/],
  ])('refuses %s and writes nothing', async (_what, args, message) => {
    const result = await (args.includes('--root') ? run(...args) : dryRun(args));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(filesWritten()).toBe('');
  });
});
