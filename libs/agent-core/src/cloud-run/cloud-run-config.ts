import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

/** Cloud Run's rule for service names: lowercase letters, digits and inner hyphens, starting with a letter, at most 49. */
export const SERVICE_PATTERN = /^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$/;
const SERVICE_RULE =
  'a Cloud Run service name: lowercase letters, digits and - (starting with a letter, at most 49)';
/** Google Cloud region names (europe-west1, us-central1, northamerica-northeast2). */
export const REGION_PATTERN = /^[a-z]+-[a-z]+\d{1,2}$/;
const REGION_RULE = 'a Google Cloud region such as europe-west1';
/** Project IDs: 6 to 30 lowercase letters, digits and hyphens, starting with a letter. */
export const PROJECT_PATTERN = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const PROJECT_RULE = 'a Google Cloud project ID (6 to 30 lowercase letters, digits and -)';
/** A container image reference: registry/path[:tag][@sha256:digest], no spaces or shell characters. */
export const IMAGE_PATTERN = /^[a-z0-9][a-z0-9._\-/:]{0,254}(@sha256:[a-f0-9]{64})?$/;
const IMAGE_RULE = 'a container image reference such as europe-docker.pkg.dev/my-project/app/web:1.2';
/** The metadata server; tests point it at recorded answers. */
const METADATA_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;
const PATH = /^\/[A-Za-z0-9._/-]{1,300}$/;

export class CloudRunAgentConfig extends CommonAgentConfig {
  @Matches(SERVICE_PATTERN, { message: `service must be ${SERVICE_RULE}` })
  service: string = 'my-service';

  @Matches(REGION_PATTERN, { message: `region must be ${REGION_RULE}` })
  region: string = 'europe-west1';

  /** Unset: gcloud's configured project. */
  @IsOptional()
  @Matches(PROJECT_PATTERN, { message: `project must be ${PROJECT_RULE}` })
  project?: string = undefined;

  @Matches(IMAGE_PATTERN, { message: `app_image must be ${IMAGE_RULE}` })
  app_image: string = 'us-docker.pkg.dev/cloudrun/container/hello';

  @IsInt()
  @Min(1)
  @Max(65535)
  app_port: number = 8080;

  @Matches(METADATA_URL, { message: 'metadata_url must be http(s)://host[:port]' })
  metadata_url: string = 'http://metadata.google.internal';

  /** Where the agent reads its container's cgroup; tests point it at recorded files. */
  @Matches(PATH, { message: 'cgroup_root must be an absolute path' })
  cgroup_root: string = '/sys/fs/cgroup';
}

export const cloudRunConfigSchema: ConfigFieldSchema[] = [
  ...commonConfigSchema,
  {
    name: 'service',
    type: 'string',
    description: 'Name of the Cloud Run service the agent runs in as a sidecar.',
    required: true,
    default: 'my-service',
    pattern: SERVICE_PATTERN.source,
    patternDescription: SERVICE_RULE,
  },
  {
    name: 'region',
    type: 'string',
    description: 'Region of the service.',
    required: true,
    default: 'europe-west1',
    pattern: REGION_PATTERN.source,
    patternDescription: REGION_RULE,
  },
  {
    name: 'project',
    type: 'string',
    description: "Google Cloud project of the service; empty: gcloud's configured project.",
    required: false,
    pattern: PROJECT_PATTERN.source,
    patternDescription: PROJECT_RULE,
  },
  {
    name: 'app_image',
    type: 'string',
    description:
      "Image of the service's own (ingress) container in the generated file. For an existing service, merge the agent container into its exported YAML instead (see the instructions).",
    required: false,
    default: 'us-docker.pkg.dev/cloudrun/container/hello',
    pattern: IMAGE_PATTERN.source,
    patternDescription: IMAGE_RULE,
  },
  {
    name: 'app_port',
    type: 'integer',
    description: 'Port the ingress container listens on.',
    required: false,
    default: 8080,
    minimum: 1,
    maximum: 65535,
  },
  {
    name: 'metadata_url',
    type: 'string',
    description:
      "The metadata server the agent asks for the instance's identity. Leave the default on Cloud Run.",
    required: false,
    default: 'http://metadata.google.internal',
    pattern: METADATA_URL.source,
    patternDescription: 'http(s)://host[:port]',
  },
  {
    name: 'cgroup_root',
    type: 'string',
    description: "Where the agent reads its container's cgroup (v1 or v2). Leave the default on Cloud Run.",
    required: false,
    default: '/sys/fs/cgroup',
    pattern: PATH.source,
    patternDescription: 'an absolute path',
  },
];
