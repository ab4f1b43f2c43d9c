import { Deployment, DeploymentInput } from '../agent-type';
import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { quotePosix } from '../deployment/shell-quoting';
import { SshAgentConfig } from './ssh-config';

/** Where the container sees the jump host's key and known_hosts (mounted read-only). */
const KEY_IN_CONTAINER = '/run/secrets/rca-ssh/id';
const KNOWN_HOSTS_IN_CONTAINER = '/run/secrets/rca-ssh/known_hosts';

const env = (name: string, value: string) => ['-e', quotePosix(`${name}=${value}`)];
const mount = (from: string, to: string) => ['-v', quotePosix(`${from}:${to}:ro`)];

/** `docker run …` on the jump host; every value is one quoted word. */
export function buildSshRunCommand(input: DeploymentInput<SshAgentConfig>): string {
  const { config } = input;
  return [
    'docker run -d --name rca-agent-ssh --restart unless-stopped',
    ...(loopbackUrls(input.natsUrl, input.platformUrl).length ? ['--network host'] : []),
    // The key is usually 0600 and owned by the operator: the image's own user could not read it.
    '--user 0:0',
    ...mount(config.private_key_path, KEY_IN_CONTAINER),
    ...mount(config.known_hosts_path, KNOWN_HOSTS_IN_CONTAINER),
    '-v rca-agent-ssh-state:/var/lib/rca-agent',
    ...env('RCA_TOKEN', input.enrollmentToken),
    ...env('RCA_NATS_URL', input.natsUrl),
    ...env('RCA_PLATFORM_URL', input.platformUrl),
    ...env('RCA_AGENT_TYPE', 'ssh'),
    ...env('RCA_LOG_LEVEL', config.log_level),
    ...(input.caPin ? env('RCA_CA_PIN', input.caPin) : []),
    ...env('RCA_TARGETS', config.targets),
    ...env('RCA_PRIVATE_KEY_PATH', KEY_IN_CONTAINER),
    ...env('RCA_KNOWN_HOSTS_PATH', KNOWN_HOSTS_IN_CONTAINER),
    ...(config.host_key_fingerprints ? env('RCA_HOST_KEY_FINGERPRINTS', config.host_key_fingerprints) : []),
    ...env('RCA_SSH_TIMEOUT_SECONDS', String(config.ssh_timeout_seconds)),
    quotePosix(input.agentImage),
  ].join(' ');
}

export function buildSshDeployment(input: DeploymentInput<SshAgentConfig>): Deployment {
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  const targets = input.config.targets.split(',');
  return {
    warnings: loopback.length
      ? [
          `The platform advertises loopback URLs (${loopback.join(', ')}): the command runs the agent on the host's network (--network host), so it works only on the platform's own Linux host. For a jump host elsewhere, ${SET_PUBLIC_URLS}.`,
        ]
      : [],
    commands: [{ platform: 'any', shell: 'sh', command: buildSshRunCommand(input) }],
    instructions: [
      `On the jump host (a Linux machine with Docker that reaches the targets on SSH and the platform), create a key pair for the agent: ssh-keygen -t ed25519 -N '' -f ${input.config.private_key_path}. The private key stays on this host; the platform never sees it.`,
      `On each target, add the public key (${input.config.private_key_path}.pub) to ~/.ssh/authorized_keys of the user named in targets. Read access to /proc and df is all the agent needs: use an unprivileged user.`,
      `Pin the targets' host keys: ssh-keyscan -p <port> <host> >> ${input.config.known_hosts_path} for each target, then compare the fingerprints (ssh-keygen -lf ${input.config.known_hosts_path}) with the ones on the targets (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). Or give them as host_key_fingerprints. A target whose key is not pinned, or differs, is refused.`,
      `Every target enrolls as its own agent with this token: it must allow at least ${targets.length} use${targets.length === 1 ? '' : 's'} (one per target).`,
      'Paste the command: it starts the agent container with the key and known_hosts mounted read-only and a named volume for the identities of the targets.',
      `Within a minute each reachable target appears as its own host, online, in environment "${input.environment}". A target that stops answering goes offline; the others keep reporting. docker logs rca-agent-ssh names the reason for each target it cannot collect.`,
      'To remove it later: docker rm -f rca-agent-ssh && docker volume rm rca-agent-ssh-state.',
    ],
  };
}
