import { Deployment, DeploymentInput } from '../agent-type';
import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { quotePosix } from '../deployment/shell-quoting';
import { AciAgentConfig } from './aci-config';
import { AGENT_CONTAINER_NAME } from './aci-collectors';

/** The file the command writes and `az container create --file` reads. */
export const ACI_FILE = 'rca-agent-aci.yaml';
const STATE_DIR = '/var/lib/rca-agent';

/**
 * The container group in ACI's YAML format (the shape of `az container export`). Built as an object and
 * written as JSON, which is YAML too: every string is double-quoted and escaped, so no value can break
 * out of it. The token is a `secureValue`, which ACI does not show in `az container show`.
 */
export function buildAciContainerGroup(input: DeploymentInput<AciAgentConfig>): Record<string, unknown> {
  const { config } = input;
  const env: Array<{ name: string; value?: string; secureValue?: string }> = [
    { name: 'RCA_TOKEN', secureValue: input.enrollmentToken },
    { name: 'RCA_NATS_URL', value: input.natsUrl },
    { name: 'RCA_PLATFORM_URL', value: input.platformUrl },
    { name: 'RCA_AGENT_TYPE', value: 'aci' },
    { name: 'RCA_LOG_LEVEL', value: config.log_level },
    { name: 'RCA_STATE_DIR', value: STATE_DIR },
    { name: 'RCA_RESOURCE_GROUP', value: config.resource_group },
    { name: 'RCA_CONTAINER_GROUP', value: config.container_group },
    ...(input.caPin ? [{ name: 'RCA_CA_PIN', value: input.caPin }] : []),
  ];
  return {
    apiVersion: '2021-10-01',
    type: 'Microsoft.ContainerInstance/containerGroups',
    name: config.container_group,
    ...(config.location ? { location: config.location } : {}),
    properties: {
      osType: 'Linux',
      restartPolicy: 'Always',
      containers: [
        {
          name: AGENT_CONTAINER_NAME,
          properties: {
            image: input.agentImage,
            environmentVariables: env,
            resources: { requests: { cpu: 0.25, memoryInGB: 0.5 } },
            volumeMounts: [{ name: 'rca-agent-state', mountPath: STATE_DIR }],
          },
        },
      ],
      // emptyDir lives as long as the group: the agent keeps its key across container restarts.
      volumes: [{ name: 'rca-agent-state', emptyDir: {} }],
    },
  };
}

export function buildAciDeployment(input: DeploymentInput<AciAgentConfig>): Deployment {
  const { resource_group, container_group } = input.config;
  const file = JSON.stringify(buildAciContainerGroup(input), null, 2);
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  const rg = quotePosix(resource_group);
  return {
    warnings: loopback.length
      ? [
          `The platform advertises loopback URLs (${loopback.join(', ')}): a container in Azure cannot reach them. ${SET_PUBLIC_URLS[0].toUpperCase()}${SET_PUBLIC_URLS.slice(1)}.`,
        ]
      : [],
    commands: [
      {
        platform: 'any',
        shell: 'sh',
        command: `printf '%s\\n' ${quotePosix(file)} > ${ACI_FILE} && az container create --resource-group ${rg} --file ${ACI_FILE}`,
      },
    ],
    instructions: [
      `Sign in with the Azure CLI (az login) as someone allowed to create container groups in the resource group "${resource_group}" (Contributor on it is enough); create it first if needed: az group create --name ${rg} --location <region>.`,
      `Paste the command: it writes ${ACI_FILE} (the container group "${container_group}" with the agent container) and creates the group. To monitor your own containers, add them under properties.containers in that file before running az container create (an existing group: az container export --resource-group ${rg} --name <group> --file ${ACI_FILE}, add the agent container, delete and re-create the group — ACI cannot add a container to a running group).`,
      "Know what the agent sees: its own container's cgroup (CPU and memory, v1 or v2). ACI gives no container a view of the other containers' cgroups, so their usage is not reported (az monitor metrics list shows it per container group).",
      `Within a minute the container group appears as an agent, online, in environment "${input.environment}". The enrollment token is a secure environment variable: az container show does not print it.`,
      `To remove it later: az container delete --resource-group ${rg} --name ${container_group} --yes.`,
    ],
  };
}
