import { Type } from 'class-transformer';
import { IsIn, IsInt, Matches, Max, MaxLength, Min } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

/** RFC 1123 label, what Kubernetes requires of namespace names. */
export const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_RULE = 'a DNS-1123 label (lowercase letters, digits, dashes)';
export const KUBERNETES_SCOPES = ['namespace', 'cluster'] as const;
export type KubernetesScope = (typeof KUBERNETES_SCOPES)[number];

export class KubernetesAgentConfig extends CommonAgentConfig {
  /** Namespace the agent is installed in; with scope=namespace also the only one it watches. */
  @MaxLength(63)
  @Matches(DNS_1123_LABEL, {
    message: `namespace must be ${DNS_1123_RULE}`,
  })
  namespace: string = 'rca-agent';

  /** Helm release name; Helm limits it to 53 characters. */
  @MaxLength(53)
  @Matches(DNS_1123_LABEL, {
    message: `release_name must be ${DNS_1123_RULE}`,
  })
  release_name: string = 'rca-agent';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  replicas: number = 1;

  /** `cluster`: nodes and pods of every namespace; `namespace`: pods of `namespace` only, no node access. */
  @IsIn(KUBERNETES_SCOPES as unknown as string[])
  scope: KubernetesScope = 'cluster';

  /** `on`: scrape the pods in scope annotated prometheus.io/scrape (docs/agent.md, "Application metrics"). */
  @IsIn(['off', 'on'])
  scrape_pods: 'off' | 'on' = 'off';
}

export const kubernetesConfigSchema: ConfigFieldSchema[] = [
  ...commonConfigSchema,
  {
    name: 'namespace',
    type: 'string',
    description:
      'Namespace to install the agent in (created if missing); with scope "namespace" also the only namespace it watches.',
    required: false,
    default: 'rca-agent',
    pattern: DNS_1123_LABEL.source,
    patternDescription: DNS_1123_RULE,
  },
  {
    name: 'release_name',
    type: 'string',
    description: 'Helm release name.',
    required: false,
    default: 'rca-agent',
    pattern: DNS_1123_LABEL.source,
    patternDescription: DNS_1123_RULE,
  },
  {
    name: 'replicas',
    type: 'integer',
    description: 'Agent pods. One is enough: each collects for the whole cluster.',
    required: false,
    default: 1,
    minimum: 1,
    maximum: 10,
  },
  {
    name: 'scope',
    type: 'enum',
    description:
      '"cluster" watches nodes and all namespaces (ClusterRole); "namespace" watches pods in its own namespace (Role).',
    required: false,
    default: 'cluster',
    enum: [...KUBERNETES_SCOPES],
  },
  {
    name: 'scrape_pods',
    type: 'enum',
    description:
      '"on": scrape the Prometheus metrics of pods in scope annotated prometheus.io/scrape: "true" (port, path, scheme annotations honoured).',
    required: false,
    default: 'off',
    enum: ['off', 'on'],
  },
];
