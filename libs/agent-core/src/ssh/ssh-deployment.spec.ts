import { execFileSync } from 'node:child_process';
import { parse } from 'shell-quote';
import { ValidationFailedError } from '@app/contracts';
import { agentTypes } from '../builtin-agent-types';

/** Values an attacker (or an unlucky user) could put in a token, URL, environment or image name. */
const HOSTILE = [
  'x"; rm -rf / #',
  '$(id)',
  '`id`',
  "it's",
  "'",
  'line1\nline2',
  'a\\,b,c=d',
  '‘curly’ $HOME',
  '',
];

/** Runs `command` in sh with `docker` replaced by a function printing its argv NUL-separated. */
function dockerArgv(command: string): string[] {
  const out = execFileSync(
    'sh',
    ['-c', `docker() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${command}`],
    {
      encoding: 'utf8',
    },
  );
  return out.split('\0').slice(0, -1);
}

const config = {
  targets: 'ops@10.0.0.5,monitor@db-1.internal:2222,ops@[fd00::7]:22',
  private_key_path: '/home/ops/.ssh/rca_ed25519',
  known_hosts_path: '/home/ops/.ssh/rca_known_hosts',
  host_key_fingerprints: `db-1.internal:2222=SHA256:${'x'.repeat(43)}`,
};

describe('ssh deployment', () => {
  it.each(HOSTILE)('delivers %j as one literal argument of docker run', (value) => {
    const input = {
      platformUrl: `https://rca.example.com/${value}`,
      natsUrl: `nats://nats.example.com:4222/${value}`,
      enrollmentToken: `rca_et_${value}`,
      environment: `prod-${value}`,
      config,
      agentImage: `ghcr.io/acme/rca-agent:${value || '1.0'}`,
    };
    const { commands, instructions } = agentTypes.buildDeployment('ssh', input);
    const argv = dockerArgv(commands[0].command);
    expect(parse(commands[0].command)).toEqual(['docker', ...argv]);
    expect(argv).toEqual([
      'run',
      '-d',
      '--name',
      'rca-agent-ssh',
      '--restart',
      'unless-stopped',
      '--user',
      '0:0',
      '-v',
      '/home/ops/.ssh/rca_ed25519:/run/secrets/rca-ssh/id:ro',
      '-v',
      '/home/ops/.ssh/rca_known_hosts:/run/secrets/rca-ssh/known_hosts:ro',
      '-v',
      'rca-agent-ssh-state:/var/lib/rca-agent',
      '-e',
      `RCA_TOKEN=${input.enrollmentToken}`,
      '-e',
      `RCA_NATS_URL=${input.natsUrl}`,
      '-e',
      `RCA_PLATFORM_URL=${input.platformUrl}`,
      '-e',
      'RCA_AGENT_TYPE=ssh',
      '-e',
      'RCA_LOG_LEVEL=info',
      '-e',
      `RCA_TARGETS=${config.targets}`,
      '-e',
      'RCA_PRIVATE_KEY_PATH=/run/secrets/rca-ssh/id',
      '-e',
      'RCA_KNOWN_HOSTS_PATH=/run/secrets/rca-ssh/known_hosts',
      '-e',
      `RCA_HOST_KEY_FINGERPRINTS=${config.host_key_fingerprints}`,
      '-e',
      'RCA_SSH_TIMEOUT_SECONDS=5',
      input.agentImage,
    ]);
    expect(instructions.join('\n')).toContain('at least 3 uses (one per target)');
  });

  it.each([
    ['targets', 'ops@host;id'],
    ['targets', 'ops@$(id)'],
    ['targets', 'host-without-user'],
    ['private_key_path', 'relative/key'],
    ['private_key_path', "/keys/it's"],
    ['known_hosts_path', '/a b'],
    ['host_key_fingerprints', 'host=MD5:aa:bb'],
  ])('refuses %s %j before any command is built', (field, value) => {
    const attempt = () =>
      agentTypes.buildDeployment('ssh', {
        platformUrl: 'https://rca.example.com',
        natsUrl: 'nats://nats.example.com:4222',
        enrollmentToken: 'rca_et_x',
        environment: 'prod',
        config: { ...config, [field]: value },
        agentImage: 'ghcr.io/acme/rca-agent:1.0',
      });
    expect(attempt).toThrow(ValidationFailedError);
    try {
      attempt();
    } catch (error) {
      expect((error as ValidationFailedError).errors?.map((e) => e.field)).toEqual([`config.${field}`]);
    }
  });

  it('requires targets', () => {
    expect(() => agentTypes.validateConfig('ssh', {})).toThrow(ValidationFailedError);
  });
});
