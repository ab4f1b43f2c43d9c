import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse } from 'shell-quote';
import { agentTypes } from '../builtin-agent-types';
import { DeploymentInput } from '../agent-type';
import { escapeHelmValue, quotePosix, quotePowerShell } from './shell-quoting';

/** Values an attacker (or an unlucky user) could put in a token, URL, environment or image name. */
const HOSTILE = [
  'x"; rm -rf / #',
  '$(id)',
  '`id`',
  "it's",
  "'",
  'line1\nline2',
  'a\\,b,c=d',
  '--set-string evil=1',
  '‘curly’ $HOME',
  '',
];

/** Runs `command` in sh with `program` replaced by a function printing its argv NUL-separated. */
function argvOf(command: string, programs: string[], capture = programs[0]): string[] {
  const fns = programs
    .map((p) =>
      p === capture
        ? `${p}() { for a in "$@"; do printf '%s\\0' "$a" >&3; done; }`
        : `${p}() { cat >/dev/null; }`,
    )
    .join('\n');
  // fd 3 is the real stdout, so the captured program's argv gets out even from inside a pipeline.
  const out = execFileSync('sh', ['-c', `exec 3>&1\n${fns}\n${command}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

/** What `program` (a function here, as in argvOf) reads on standard input inside `command`. */
function stdinOf(command: string, programs: string[], capture = programs[0]): string {
  const fns = programs
    .map((p) => (p === capture ? `${p}() { cat >&3; }` : `${p}() { cat >/dev/null; }`))
    .join('\n');
  return execFileSync('sh', ['-c', `exec 3>&1\n${fns}\n${command}`], { encoding: 'utf8' });
}

/** Script URLs are built on the platform URL without its trailing slashes. */
const trimSlash = (url: string) => url.replace(/\/+$/, '');

const syntaxOk = (command: string) => execFileSync('sh', ['-n', '-c', command], { encoding: 'utf8' });

/** What Helm makes of a --set-string value: `\x` → `x`. */
const helmUnescape = (value: string) => value.replace(/\\(.)/gs, '$1');

/** Reads PowerShell single-quoted strings the way PowerShell does ('' → '). */
function powerShellStrings(command: string): string[] {
  const strings: string[] = [];
  const re = /'((?:[^'\u2018\u2019\u201A\u201B]|''|\u2018\u2018|\u2019\u2019|\u201A\u201A|\u201B\u201B)*)'/gu;
  for (const m of command.matchAll(re)) strings.push(m[1].replace(/(['\u2018\u2019\u201A\u201B])\1/g, '$1'));
  return strings;
}

const input = (value: string, config: Record<string, unknown> = {}): DeploymentInput<unknown> => ({
  platformUrl: `https://rca.example.com/${value}`,
  natsUrl: `nats://nats.example.com:4222/${value}`,
  enrollmentToken: `rca_et_${value}`,
  environment: `prod-${value}`,
  config,
  agentImage: `ghcr.io/acme/rca-agent:${value || '1.0'}`,
});

describe('shell quoting', () => {
  it.each(HOSTILE)('quotePosix makes %j one literal word', (value) => {
    expect(execFileSync('sh', ['-c', `printf '%s' ${quotePosix(value)}`], { encoding: 'utf8' })).toBe(value);
    expect(parse(quotePosix(value))).toEqual([value]);
  });

  it('leaves plain words readable', () => {
    expect(quotePosix('nats://n:4222,nats://m:4222')).toBe('nats://n:4222,nats://m:4222');
    expect(quotePowerShell('plain')).toBe("'plain'");
  });

  it('doubles every kind of single quote PowerShell recognises', () => {
    expect(quotePowerShell("a'b‘c’d")).toBe("'a''b‘‘c’’d'");
  });

  it('escapes the separators of helm --set-string', () => {
    expect(escapeHelmValue('a\\b,c')).toBe('a\\\\b\\,c');
    expect(helmUnescape(escapeHelmValue('a\\b,c'))).toBe('a\\b,c');
  });
});

describe('docker deployment', () => {
  it.each(HOSTILE)('delivers %j as one literal argument of docker run', (value) => {
    const docker_host = `unix:///run/${value.replace(/\s/g, '')}x.sock`;
    const { commands } = agentTypes.buildDeployment('docker', { ...input(value), config: { docker_host } });
    expect(commands).toHaveLength(1);
    const { command, shell, platform } = commands[0];
    expect({ shell, platform }).toEqual({ shell: 'sh', platform: 'any' });
    syntaxOk(command);
    const argv = argvOf(command, ['docker']);
    const it = input(value);
    expect(argv).toEqual([
      'run',
      '-d',
      '--name',
      'rca-agent',
      '--restart',
      'unless-stopped',
      '--user',
      '0:0',
      '-v',
      '/var/run/docker.sock:/var/run/docker.sock:ro',
      '-v',
      'rca-agent-state:/var/lib/rca-agent',
      '-e',
      `RCA_TOKEN=${it.enrollmentToken}`,
      '-e',
      `RCA_NATS_URL=${it.natsUrl}`,
      '-e',
      `RCA_PLATFORM_URL=${it.platformUrl}`,
      '-e',
      'RCA_AGENT_TYPE=docker',
      '-e',
      'RCA_LOG_LEVEL=info',
      '-e',
      `RCA_DOCKER_HOST=${docker_host}`,
      it.agentImage,
    ]);
    expect(parse(command)).toEqual(['docker', ...argv]);
  });

  it('leaves RCA_DOCKER_HOST out when docker_host is not set', () => {
    const { commands } = agentTypes.buildDeployment('docker', input('v'));
    expect(commands[0].command).not.toContain('RCA_DOCKER_HOST');
    expect(commands[0].command).toContain('-e RCA_LOG_LEVEL=info');
  });
});

describe('kubernetes deployment', () => {
  it.each(HOSTILE)('delivers %j as one literal --set-string value of helm', (value) => {
    const config = {
      namespace: 'monitoring',
      release_name: 'edge-agent',
      replicas: 2,
      scope: 'namespace',
      log_level: 'debug',
    };
    const { commands, instructions } = agentTypes.buildDeployment('kubernetes', { ...input(value), config });
    const { command } = commands[0];
    syntaxOk(command);
    const argv = argvOf(command, ['helm']);
    const it = input(value);
    const values = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--set-string') {
        const [key, ...rest] = argv[++i].split('=');
        values.set(key, helmUnescape(rest.join('=')));
      }
    }
    expect(argv.slice(0, 10)).toEqual([
      'upgrade',
      '--install',
      'edge-agent',
      'rca-agent',
      '--repo',
      `${trimSlash(it.platformUrl)}/charts`,
      '--namespace',
      'monitoring',
      '--create-namespace',
      '--set-string',
    ]);
    expect(Object.fromEntries(values)).toEqual({
      'agent.token': it.enrollmentToken,
      'agent.natsUrl': it.natsUrl,
      'agent.platformUrl': it.platformUrl,
      'agent.environment': it.environment,
      'agent.logLevel': 'debug',
      scope: 'namespace',
      'image.repository': values.get('image.repository'),
      'image.tag': values.get('image.tag'),
    });
    const [repository, tag] = [values.get('image.repository'), values.get('image.tag')];
    expect(tag === 'latest' ? repository : `${repository}:${tag}`).toBe(it.agentImage);
    expect(argv).toEqual(expect.arrayContaining(['--set', 'replicas=2']));
    expect(parse(command)).toEqual(['helm', ...argv]);
    expect(instructions.join('\n')).toMatch(/Role and RoleBinding in namespace "monitoring"/);
  });

  it('gives a Docker agent RCA_SCRAPE_CONTAINERS=on only when scrape_containers is on', () => {
    const on = agentTypes.buildDeployment('docker', { ...input('v'), config: { scrape_containers: 'on' } });
    expect(on.commands[0].command).toContain('-e RCA_SCRAPE_CONTAINERS=on');
    expect(agentTypes.buildDeployment('docker', input('v')).commands[0].command).not.toContain('SCRAPE');
  });

  it('asks the chart to scrape annotated pods only when scrape_pods is on', () => {
    const on = agentTypes.buildDeployment('kubernetes', { ...input('v'), config: { scrape_pods: 'on' } });
    expect(on.commands[0].command).toContain('--set-string scrapePods=on');
    expect(agentTypes.buildDeployment('kubernetes', input('v')).commands[0].command).not.toContain(
      'scrapePods',
    );
  });

  it('applies the defaults of every config key', () => {
    const { commands } = agentTypes.buildDeployment('kubernetes', input('v'));
    expect(commands[0].command).toMatch(
      /^helm upgrade --install rca-agent rca-agent --repo .* --namespace rca-agent .*--set-string scope=cluster --set replicas=1 /,
    );
  });
});

describe('server deployment', () => {
  it.each(HOSTILE)('delivers %j as one literal argument of the install script (Linux/macOS)', (value) => {
    const { commands } = agentTypes.buildDeployment('server', input(value, { log_level: 'warn' }));
    expect(commands.map((c) => [c.platform, c.shell])).toEqual([
      ['linux', 'sh'],
      ['macos', 'sh'],
      ['windows', 'powershell'],
    ]);
    const { command } = commands[0];
    syntaxOk(command);
    const it = input(value);
    const sudo = argvOf(command, ['sudo', 'curl']);
    // The script path is a fresh temp file; then the arguments, with the token nowhere among them.
    expect(sudo[0]).toBe('sh');
    expect(sudo.slice(2)).toEqual([
      '--token-file',
      '-',
      '--nats-url',
      it.natsUrl,
      '--platform-url',
      it.platformUrl,
      '--log-level',
      'warn',
    ]);
    const curl = argvOf(command, ['curl', 'sudo']);
    expect(curl).toEqual(['-fsSL', `${trimSlash(it.platformUrl)}/install.sh`, '-o', curl[3]]);
    // Each run gets its own temp file (mktemp), which the trap removes afterwards.
    expect(
      [curl[3], sudo[1]].map((f) => [f.startsWith(tmpdir()) || f.startsWith('/tmp/'), existsSync(f)]),
    ).toEqual([
      [true, false],
      [true, false],
    ]);
    // The token reaches the script on standard input, through the shell's builtin printf.
    expect(stdinOf(command, ['sudo', 'curl'])).toBe(`${it.enrollmentToken}\n`);
  });

  it.each(HOSTILE)('delivers %j as one literal PowerShell string (Windows)', (value) => {
    const { command } = agentTypes.buildDeployment('server', input(value)).commands[2];
    const it = input(value);
    expect(command.startsWith('& ([scriptblock]::Create((Invoke-RestMethod ')).toBe(true);
    expect(powerShellStrings(command)).toEqual([
      `${trimSlash(it.platformUrl)}/install.ps1`,
      it.enrollmentToken,
      it.natsUrl,
      it.platformUrl,
      'info',
    ]);
    // Outside the quoted strings only the fixed words remain: nothing of the value can run.
    const outside = command.replace(
      /'(?:[^'\u2018\u2019\u201A\u201B]|''|\u2018\u2018|\u2019\u2019)*'/gu,
      "''",
    );
    expect(outside).toBe(
      "& ([scriptblock]::Create((Invoke-RestMethod ''))) -Token '' -NatsUrl '' -PlatformUrl '' -LogLevel ''",
    );
  });
});

describe('instructions', () => {
  it.each(['server', 'docker', 'kubernetes'])(
    'the %s type gives ordered steps naming the environment',
    (type) => {
      const { instructions } = agentTypes.buildDeployment(type, input('v'));
      expect(instructions.length).toBeGreaterThanOrEqual(3);
      expect(instructions.join('\n')).toContain('prod-v');
    },
  );
});
