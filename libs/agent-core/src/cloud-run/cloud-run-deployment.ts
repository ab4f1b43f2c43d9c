import { Deployment, DeploymentInput } from '../agent-type';
import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { quotePosix } from '../deployment/shell-quoting';
import { AGENT_CONTAINER_NAME } from './cloud-run-collectors';
import { CloudRunAgentConfig } from './cloud-run-config';

/** The file the command writes and `gcloud run services replace` reads. */
export const CLOUD_RUN_FILE = 'rca-agent-cloud-run.yaml';
/** The only writable place in a Cloud Run container without a volume; it lives as long as the instance. */
const STATE_DIR = '/tmp/rca-agent';
const DEFAULT_METADATA_URL = 'http://metadata.google.internal';

/**
 * The service as a Knative Service (serving.knative.dev/v1, what `gcloud run services describe --format
 * export` writes) with two containers: the app (the ingress container, the only one with a port) and the
 * agent sidecar. Written as JSON, which is YAML too: every value is one escaped string.
 */
export function buildCloudRunService(input: DeploymentInput<CloudRunAgentConfig>): Record<string, unknown> {
  const { config } = input;
  const env = [
    { name: 'RCA_TOKEN', value: input.enrollmentToken },
    { name: 'RCA_NATS_URL', value: input.natsUrl },
    { name: 'RCA_PLATFORM_URL', value: input.platformUrl },
    { name: 'RCA_AGENT_TYPE', value: 'cloud-run' },
    { name: 'RCA_LOG_LEVEL', value: config.log_level },
    { name: 'RCA_STATE_DIR', value: STATE_DIR },
    { name: 'RCA_SERVICE', value: config.service },
    { name: 'RCA_REGION', value: config.region },
    ...(config.metadata_url !== DEFAULT_METADATA_URL
      ? [{ name: 'RCA_METADATA_URL', value: config.metadata_url }]
      : []),
    ...(input.caPin ? [{ name: 'RCA_CA_PIN', value: input.caPin }] : []),
  ];
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: config.service,
      labels: { 'cloud.googleapis.com/location': config.region },
    },
    spec: {
      template: {
        metadata: {
          annotations: {
            // A sidecar's timers need CPU between requests: heartbeats and collections stop otherwise.
            'run.googleapis.com/cpu-throttling': 'false',
            // Real Linux cgroups for the agent to read (the first generation's sandbox emulates them).
            'run.googleapis.com/execution-environment': 'gen2',
          },
        },
        spec: {
          containers: [
            { name: 'app', image: config.app_image, ports: [{ containerPort: config.app_port }] },
            {
              name: AGENT_CONTAINER_NAME,
              image: input.agentImage,
              env,
              resources: { limits: { cpu: '1', memory: '256Mi' } },
            },
          ],
        },
      },
    },
  };
}

export function buildCloudRunDeployment(input: DeploymentInput<CloudRunAgentConfig>): Deployment {
  const { service, region, project } = input.config;
  const file = JSON.stringify(buildCloudRunService(input), null, 2);
  const scope = `--region ${quotePosix(region)}${project ? ` --project ${quotePosix(project)}` : ''}`;
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  return {
    warnings: loopback.length
      ? [
          `The platform advertises loopback URLs (${loopback.join(', ')}): a Cloud Run instance cannot reach them. ${SET_PUBLIC_URLS[0].toUpperCase()}${SET_PUBLIC_URLS.slice(1)}.`,
        ]
      : [],
    commands: [
      {
        platform: 'any',
        shell: 'sh',
        command: `printf '%s\\n' ${quotePosix(file)} > ${CLOUD_RUN_FILE} && gcloud run services replace ${CLOUD_RUN_FILE} ${scope}`,
      },
    ],
    instructions: [
      `Use a shell with gcloud signed in (gcloud auth login) as someone allowed to deploy Cloud Run services in the project (roles/run.developer and roles/iam.serviceAccountUser on the service's account).`,
      `Paste the command: it writes ${CLOUD_RUN_FILE} (the service "${service}" with your app container and the agent as a sidecar) and deploys it. services replace replaces the whole service: for an existing service, export it first (gcloud run services describe ${quotePosix(service)} ${scope} --format export > service.yaml), add the rca-agent container and the two annotations from ${CLOUD_RUN_FILE} to it, and replace with that file.`,
      'The generated revision sets run.googleapis.com/cpu-throttling "false" (CPU always allocated, billed per instance) so the agent can heartbeat between requests, and the second-generation execution environment so it reads real cgroups.',
      "Know what the agent sees: its own container's cgroup (CPU and memory) and the instance's identity from the metadata server. Cloud Run shows no container the others' cgroups, so your app container's usage is not reported (Cloud Monitoring has it). Each instance enrolls as its own agent and goes offline when Cloud Run scales it in: give the token enough uses.",
      `Within a minute each instance appears as an agent, online, in environment "${input.environment}". The enrollment token is an environment variable of the revision: whoever may read the service can read it (or move it to Secret Manager with valueFrom.secretKeyRef).`,
      `To remove it later: deploy the service again without the rca-agent container.`,
    ],
  };
}
