import { IsOptional, Matches, MaxLength } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

export const NOMAD_ADDR_PATTERN = /^https?:\/\/[A-Za-z0-9.\-[\]:]{1,253}(:[0-9]{1,5})?$/;
const NOMAD_ADDR_RULE = 'http(s)://host[:port] with no path';
/** Nomad's own rule for job IDs and namespaces, narrowed to what needs no quoting anywhere. */
export const NOMAD_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const NOMAD_NAME_RULE = 'letters, digits, - and _ (at most 63, starting with a letter or digit)';
export const DATACENTERS_PATTERN = /^(\*|[A-Za-z0-9_*-]{1,63})(,(\*|[A-Za-z0-9_*-]{1,63}))*$/;
const DATACENTERS_RULE = 'datacenter names (or * patterns) separated by commas';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PATH = /^\/[A-Za-z0-9._/-]{1,300}$/;

export class NomadAgentConfig extends CommonAgentConfig {
  /** The Nomad HTTP API; the job spec points each agent at its own node's client. */
  @MaxLength(300)
  @Matches(NOMAD_ADDR_PATTERN, { message: `nomad_addr must be ${NOMAD_ADDR_RULE}` })
  nomad_addr: string = 'http://127.0.0.1:4646';

  /** A file holding the ACL token (the job spec renders it from a Nomad Variable): the token never reaches the platform. */
  @Matches(PATH, { message: 'nomad_token_file must be an absolute path' })
  nomad_token_file: string = '/secrets/nomad-token';

  /** The node this agent runs on (the job spec sets it to ${node.unique.id}); unset: the agent reports no per-node metrics. */
  @IsOptional()
  @Matches(UUID, { message: 'nomad_node_id must be a Nomad node ID (UUID)' })
  nomad_node_id?: string = undefined;

  @Matches(NOMAD_NAME_PATTERN, { message: `nomad_namespace must be ${NOMAD_NAME_RULE}` })
  nomad_namespace: string = 'default';

  @Matches(NOMAD_NAME_PATTERN, { message: `job_name must be ${NOMAD_NAME_RULE}` })
  job_name: string = 'rca-agent';

  @MaxLength(1000)
  @Matches(DATACENTERS_PATTERN, { message: `datacenters must be ${DATACENTERS_RULE}` })
  datacenters: string = '*';
}

export const nomadConfigSchema: ConfigFieldSchema[] = [
  ...commonConfigSchema,
  {
    name: 'nomad_namespace',
    type: 'string',
    description: 'Nomad namespace the system job runs in and whose jobs and allocations are reported.',
    required: false,
    default: 'default',
    pattern: NOMAD_NAME_PATTERN.source,
    patternDescription: NOMAD_NAME_RULE,
  },
  {
    name: 'job_name',
    type: 'string',
    description:
      'ID of the generated system job (also the Nomad Variable path nomad/jobs/<job_name> holding the ACL token).',
    required: false,
    default: 'rca-agent',
    pattern: NOMAD_NAME_PATTERN.source,
    patternDescription: NOMAD_NAME_RULE,
  },
  {
    name: 'datacenters',
    type: 'string',
    description: 'Datacenters to run the agent in, separated by commas (* for all).',
    required: false,
    default: '*',
    pattern: DATACENTERS_PATTERN.source,
    patternDescription: DATACENTERS_RULE,
  },
  {
    name: 'nomad_addr',
    type: 'string',
    description:
      "Nomad HTTP API address. The generated job sets it to the node's own client (http://<node ip>:4646); change it only for a run outside the job.",
    required: false,
    default: 'http://127.0.0.1:4646',
    pattern: NOMAD_ADDR_PATTERN.source,
    patternDescription: NOMAD_ADDR_RULE,
  },
  {
    name: 'nomad_token_file',
    type: 'string',
    description:
      'File holding the Nomad ACL token. The generated job renders it from the Nomad Variable nomad/jobs/<job_name>; the token never passes through the platform.',
    required: false,
    default: '/secrets/nomad-token',
    pattern: PATH.source,
    patternDescription: 'an absolute path',
  },
  {
    name: 'nomad_node_id',
    type: 'string',
    description:
      'The Nomad node the agent runs on; the generated job sets it (${node.unique.id}). Leave empty in the wizard.',
    required: false,
    pattern: UUID.source,
    patternDescription: 'a Nomad node ID (UUID)',
  },
];
