import { IsOptional, Matches } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

/** ACI's rule for container group names: lowercase letters, digits and inner hyphens, at most 63. */
export const CONTAINER_GROUP_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CONTAINER_GROUP_RULE = 'lowercase letters, digits and - (at most 63, not starting or ending with -)';
/** Azure's rule for resource group names (letters, digits, _ . ( ) -, at most 90, not ending with a period). */
export const RESOURCE_GROUP_PATTERN = /^[A-Za-z0-9_.()-]{0,89}[A-Za-z0-9_()-]$/;
const RESOURCE_GROUP_RULE = 'letters, digits, _ . ( ) and - (at most 90, not ending with a period)';
/** Azure region names as the CLI spells them (westeurope, eastus2). */
export const LOCATION_PATTERN = /^[a-z][a-z0-9]{1,39}$/;
const LOCATION_RULE = 'an Azure region name such as westeurope (lowercase letters and digits)';
const PATH = /^\/[A-Za-z0-9._/-]{1,300}$/;

export class AciAgentConfig extends CommonAgentConfig {
  @Matches(RESOURCE_GROUP_PATTERN, { message: `resource_group must be ${RESOURCE_GROUP_RULE}` })
  resource_group: string = 'rca-agents';

  @Matches(CONTAINER_GROUP_PATTERN, { message: `container_group must be ${CONTAINER_GROUP_RULE}` })
  container_group: string = 'rca-agent';

  /** Unset: the resource group's region (az reads it). */
  @IsOptional()
  @Matches(LOCATION_PATTERN, { message: `location must be ${LOCATION_RULE}` })
  location?: string = undefined;

  /** Where the agent reads its container's cgroup; tests point it at recorded files. */
  @Matches(PATH, { message: 'cgroup_root must be an absolute path' })
  cgroup_root: string = '/sys/fs/cgroup';
}

export const aciConfigSchema: ConfigFieldSchema[] = [
  ...commonConfigSchema,
  {
    name: 'resource_group',
    type: 'string',
    description: 'Azure resource group the container group is created in (it must exist).',
    required: false,
    default: 'rca-agents',
    pattern: RESOURCE_GROUP_PATTERN.source,
    patternDescription: RESOURCE_GROUP_RULE,
  },
  {
    name: 'container_group',
    type: 'string',
    description:
      'Name of the container group. The agent reports it as its host; add your own containers to the generated file.',
    required: false,
    default: 'rca-agent',
    pattern: CONTAINER_GROUP_PATTERN.source,
    patternDescription: CONTAINER_GROUP_RULE,
  },
  {
    name: 'location',
    type: 'string',
    description: "Azure region of the container group; empty: the resource group's region.",
    required: false,
    pattern: LOCATION_PATTERN.source,
    patternDescription: LOCATION_RULE,
  },
  {
    name: 'cgroup_root',
    type: 'string',
    description: "Where the agent reads its container's cgroup (v1 or v2). Leave the default inside ACI.",
    required: false,
    default: '/sys/fs/cgroup',
    pattern: PATH.source,
    patternDescription: 'an absolute path',
  },
];
