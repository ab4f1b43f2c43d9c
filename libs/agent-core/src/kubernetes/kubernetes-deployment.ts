import { Deployment, DeploymentInput } from '../agent-type';
import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { helmSetString, quotePosix } from '../deployment/shell-quoting';
import { KubernetesAgentConfig } from './kubernetes-config';

/** Splits `registry:5000/org/agent:1.2` into repository and tag; a digest stays with the repository. */
export function splitImage(image: string): { repository: string; tag: string } {
  if (image.includes('@')) return { repository: image, tag: '' };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image, tag: 'latest' };
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** `helm upgrade --install …` per docs/deploy-contract.md; every value escaped for Helm, then for sh. */
export function buildHelmCommand(input: DeploymentInput<KubernetesAgentConfig>): string {
  const { repository, tag } = splitImage(input.agentImage);
  const { config } = input;
  const words = [
    'helm upgrade --install',
    quotePosix(config.release_name),
    'rca-agent',
    '--repo',
    quotePosix(`${trimSlash(input.platformUrl)}/charts`),
    '--namespace',
    quotePosix(config.namespace),
    '--create-namespace',
    ...helmSetString('agent.token', input.enrollmentToken),
    ...helmSetString('agent.natsUrl', input.natsUrl),
    ...helmSetString('agent.platformUrl', input.platformUrl),
    ...helmSetString('agent.environment', input.environment),
    ...helmSetString('agent.logLevel', config.log_level),
    ...(input.caPin ? helmSetString('agent.caPin', input.caPin) : []),
    ...helmSetString('scope', config.scope),
    // replicas is a validated integer: --set (not --set-string) so the chart receives a number.
    '--set',
    quotePosix(`replicas=${Number(config.replicas)}`),
    // Only when asked for: the chart's default is off, and commands without it stay as they were.
    ...(config.scrape_pods === 'on' ? helmSetString('scrapePods', 'on') : []),
    ...helmSetString('image.repository', repository),
    ...(tag ? helmSetString('image.tag', tag) : []),
  ];
  return words.join(' ');
}

export function buildKubernetesDeployment(input: DeploymentInput<KubernetesAgentConfig>): Deployment {
  const { namespace, release_name: release, scope } = input.config;
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  return {
    // A pod's loopback is its own: no cluster can reach a platform advertised on 127.0.0.1/localhost.
    warnings: loopback.length
      ? [
          `This command will not work: the platform advertises loopback URLs (${loopback.join(', ')}), which a pod cannot reach. ${SET_PUBLIC_URLS[0].toUpperCase()}${SET_PUBLIC_URLS.slice(1)}, then create the command again.`,
        ]
      : [],
    commands: [{ platform: 'any', shell: 'sh', command: buildHelmCommand(input) }],
    instructions: [
      'Install Helm 3 and point kubectl at the cluster (kubectl config current-context).',
      scope === 'cluster'
        ? 'You need rights to create a ClusterRole and ClusterRoleBinding (the agent reads nodes and pods cluster-wide).'
        : `You need rights to create a Role and RoleBinding in namespace "${namespace}" (the agent reads pods there only).`,
      "Paste the helm command: it installs the chart from the platform's Helm repository; the token is stored in a Secret.",
      `Check the agent pod: kubectl -n ${quotePosix(namespace)} get pods -l app.kubernetes.io/instance=${quotePosix(release)}`,
      `Within a minute the agent appears as online in environment "${input.environment}" in the fleet view.`,
      `To remove it later: helm uninstall ${quotePosix(release)} --namespace ${quotePosix(namespace)}`,
    ],
  };
}
