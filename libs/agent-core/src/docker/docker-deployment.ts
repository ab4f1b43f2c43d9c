import { Deployment, DeploymentInput } from '../agent-type';
import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { quotePosix } from '../deployment/shell-quoting';
import { DockerAgentConfig } from './docker-config';

const env = (name: string, value: string) => ['-e', quotePosix(`${name}=${value}`)];

/** `docker run …` per docs/deploy-contract.md; every value is one quoted word. */
export function buildDockerRunCommand(input: DeploymentInput<DockerAgentConfig>): string {
  const words = [
    'docker run -d --name rca-agent --restart unless-stopped',
    // A container's own 127.0.0.1 is not the host's: with loopback platform URLs it must share the host's
    // network. (host.docker.internal would need URLs the platform's TLS certificate does not name.)
    ...(loopbackUrls(input.natsUrl, input.platformUrl).length ? ['--network host'] : []),
    // The socket is root:docker 0660 on most hosts (root:root on Docker Desktop) and its group id varies, so
    // the image's non-root user could not open it; access to it is root-equivalent anyway.
    '--user 0:0',
    '-v /var/run/docker.sock:/var/run/docker.sock:ro',
    '-v rca-agent-state:/var/lib/rca-agent',
    ...env('RCA_TOKEN', input.enrollmentToken),
    ...env('RCA_NATS_URL', input.natsUrl),
    ...env('RCA_PLATFORM_URL', input.platformUrl),
    ...env('RCA_AGENT_TYPE', 'docker'),
    ...env('RCA_LOG_LEVEL', input.config.log_level),
    ...(input.caPin ? env('RCA_CA_PIN', input.caPin) : []),
    ...(input.config.docker_host ? env('RCA_DOCKER_HOST', input.config.docker_host) : []),
    ...(input.config.scrape_containers === 'on' ? env('RCA_SCRAPE_CONTAINERS', 'on') : []),
    quotePosix(input.agentImage),
  ];
  return words.join(' ');
}

export function buildDockerDeployment(input: DeploymentInput<DockerAgentConfig>): Deployment {
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  return {
    warnings: loopback.length
      ? [
          `The platform advertises loopback URLs (${loopback.join(', ')}): the command runs the agent on the host's network (--network host), so it works only on the platform's own Linux host (not Docker Desktop, not another machine). For other hosts, ${SET_PUBLIC_URLS}.`,
        ]
      : [],
    commands: [{ platform: 'any', shell: 'sh', command: buildDockerRunCommand(input) }],
    instructions: [
      'Open a shell on the Docker host as a user allowed to run docker (root or the docker group).',
      'Paste the command: it starts the agent container with the Docker socket mounted and a named volume for its state (its key is generated there and never leaves it).',
      'Know what the socket grants: whoever can use the Docker API controls the host (":ro" only keeps the socket file from being replaced, not the API from being written to). The agent only reads it (GET requests); to enforce that, put a read-only Docker API proxy in front (e.g. tecnativa/docker-socket-proxy with CONTAINERS=1, INFO=1, POST=0) and set the agent\'s docker_host to it.',
      'Check that it runs: docker logs rca-agent shows "enrolled" and then one line per collection at debug level.',
      `Within a minute the agent appears as online in environment "${input.environment}" in the fleet view.`,
      'To remove it later: docker rm -f rca-agent && docker volume rm rca-agent-state.',
    ],
  };
}
