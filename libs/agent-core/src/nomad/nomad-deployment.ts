import { Deployment, DeploymentInput } from '../agent-type';
import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { quotePosix } from '../deployment/shell-quoting';
import { NomadAgentConfig } from './nomad-config';

/**
 * The system job in Nomad's JSON job format (`nomad job run -json`): one agent per client node, the
 * ACL token rendered from the Nomad Variable of the job into the task's secrets directory. Built as an
 * object and serialised, so no value can break out of its string.
 */
export function buildNomadJob(input: DeploymentInput<NomadAgentConfig>): Record<string, unknown> {
  const { config } = input;
  const env: Record<string, string> = {
    RCA_TOKEN: input.enrollmentToken,
    RCA_NATS_URL: input.natsUrl,
    RCA_PLATFORM_URL: input.platformUrl,
    RCA_AGENT_TYPE: 'nomad',
    RCA_LOG_LEVEL: config.log_level,
    RCA_STATE_DIR: '/alloc/data/rca-agent',
    RCA_NOMAD_ADDR: 'http://${attr.unique.network.ip-address}:4646',
    RCA_NOMAD_NODE_ID: '${node.unique.id}',
    RCA_NOMAD_NAMESPACE: config.nomad_namespace,
    RCA_NOMAD_TOKEN_FILE: '/secrets/nomad-token',
    ...(input.caPin ? { RCA_CA_PIN: input.caPin } : {}),
  };
  return {
    Job: {
      ID: config.job_name,
      Name: config.job_name,
      Namespace: config.nomad_namespace,
      Type: 'system',
      Datacenters: config.datacenters.split(','),
      TaskGroups: [
        {
          Name: 'agent',
          // The identity survives a restart of the allocation: the state lives in the alloc's data dir.
          EphemeralDisk: { Sticky: true, Migrate: false, SizeMB: 50 },
          Tasks: [
            {
              Name: 'rca-agent',
              Driver: 'docker',
              Config: {
                image: input.agentImage,
                ...(loopbackUrls(input.natsUrl, input.platformUrl).length ? { network_mode: 'host' } : {}),
              },
              Env: env,
              Templates: [
                {
                  // Workload identity may read its own job's variables: no token is ever written into the job.
                  EmbeddedTmpl: `{{ with nomadVar "nomad/jobs/${config.job_name}" }}{{ .token }}{{ end }}`,
                  DestPath: 'secrets/nomad-token',
                  ChangeMode: 'noop',
                  Perms: '0400',
                },
              ],
              Resources: { CPU: 100, MemoryMB: 128 },
            },
          ],
        },
      ],
    },
  };
}

export function buildNomadDeployment(input: DeploymentInput<NomadAgentConfig>): Deployment {
  const job = JSON.stringify(buildNomadJob(input), null, 2);
  const { job_name, nomad_namespace } = input.config;
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  return {
    warnings: loopback.length
      ? [
          `The platform advertises loopback URLs (${loopback.join(', ')}): the job runs the agent on the node's network, so it works only on a Nomad client on the platform's own host. For other nodes, ${SET_PUBLIC_URLS}.`,
        ]
      : [],
    commands: [
      { platform: 'any', shell: 'sh', command: `printf '%s\\n' ${quotePosix(job)} | nomad job run -json -` },
    ],
    instructions: [
      `Create an ACL policy for the agent: node { policy = "read" } and namespace "${nomad_namespace}" { policy = "read" } (nodes, allocations, jobs and their summaries); then a client token with it: nomad acl policy apply rca-agent rca-agent.hcl && nomad acl token create -name rca-agent -policy rca-agent.`,
      `Store the token where only this job can read it: nomad var put -namespace ${quotePosix(nomad_namespace)} nomad/jobs/${job_name} token=<SecretID>. It is rendered into the task's secrets directory; it never passes through the platform.`,
      'With NOMAD_ADDR and a NOMAD_TOKEN allowed to submit jobs in that namespace, paste the command: it submits a system job, one agent per client node (Docker driver).',
      `Within a minute each node appears as its own agent, online, in environment "${input.environment}". The agent on the ready node with the lowest ID also reports the cluster-wide counts (nodes, jobs, job summaries).`,
      `To remove it later: nomad job stop -purge -namespace ${quotePosix(nomad_namespace)} ${job_name}.`,
    ],
  };
}
