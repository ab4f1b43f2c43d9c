import type { AgentOptions, BaseAgent } from './base-agent';
import type { AgentArtifacts } from './deployment/agent-artifacts';
import {
  AgentTypeInfo,
  ConfigFieldSchema,
  DeploymentCommand,
  MetricSample,
  SourceHealth,
} from '@app/contracts';

/** A metric a type reports, declared once: docs, the API and the dashboard read this table. */
export interface DeclaredMetric {
  name: string;
  unit: string;
  description: string;
  /** An info metric: always 1, its tags are the facts (OS, versions). Shown as facts, never as a chart. */
  info?: true;
}

/** Everything a generated command needs. Values are untrusted: builders quote each for its shell. */
export interface DeploymentInput<C = Record<string, unknown>> {
  /** Gateway base URL (HTTP intake, install scripts, Helm repository). */
  platformUrl: string;
  /** NATS URL(s) the agent connects to. */
  natsUrl: string;
  enrollmentToken: string;
  environment: string;
  /** Validated configuration of the type (defaults applied). */
  config: C;
  /** Container image of the agent (AGENT_IMAGE), e.g. `ghcr.io/acme/rca-agent:0.1.0`. */
  agentImage: string;
  /**
   * Pin (`sha256:<hex>`) of the platform's own CA when its listeners use it: the agent fetches the CA
   * and trusts it only if it matches. Absent when the listeners have publicly trusted certificates.
   */
  caPin?: string;
  /** The agent build the gateway serves: install commands pin the SHA-256 of what they download. */
  artifacts?: AgentArtifacts;
}

export interface Deployment {
  commands: DeploymentCommand[];
  /** Ordered, human steps, shown with the command. */
  instructions: string[];
  /** What may stop the command from working where it runs (loopback URLs seen from a container or pod). */
  warnings?: string[];
}

/** A source of samples. May throw or hang: the runtime times it out and reports the failure. */
export interface Collector {
  readonly name: string;
  /** Its own deadline, when it enforces one (a scrape's timeout); otherwise the runner's applies. */
  readonly timeoutMs?: number;
  collect(): Promise<MetricSample[]>;
  /** An application-metrics source's health after its last run (none before it); reported in the heartbeat. */
  health?(): SourceHealth[];
}

/**
 * Thrown by a collector that failed but still has samples to report (a scrape target's `scrape.up` = 0):
 * the runner keeps the samples and reports the message as that collector's error.
 */
export class PartialCollectionError extends Error {
  constructor(
    message: string,
    readonly samples: MetricSample[],
  ) {
    super(message);
  }
}

/**
 * One agent type, registered with the registry: its configuration (a class-validator class whose
 * initialisers are the defaults), its field descriptions, its declared metrics, its command
 * builder and its collectors. Adding a type is a new folder exporting one of these.
 */
export interface AgentTypeDefinition<C extends object = object> {
  type: string;
  displayName: string;
  description: string;
  platforms: string[];
  configClass: new () => C;
  configSchema: ConfigFieldSchema[];
  metrics: DeclaredMetric[];
  buildDeployment(input: DeploymentInput<C>): Deployment;
  /** Collectors for a running agent of this type, built from its validated config. */
  createCollectors(config: C, context: CollectorContext): Collector[];
  /** The runtime of this type: a BaseAgent subclass given its options (collectors included). */
  createAgent(options: AgentOptions, config: C, context: CollectorContext): BaseAgent;
}

/**
 * What a type may read from the host besides its config: the process environment as the agent's
 * config loader read it, for the variables each platform standardises (DOCKER_HOST,
 * KUBERNETES_SERVICE_HOST, KUBECONFIG). Tests pass their own.
 */
export interface CollectorContext {
  environment: Readonly<Record<string, string | undefined>>;
  /** The agent's collection interval, for collectors that schedule work of their own (pod scraping). */
  collectIntervalSeconds?: number;
}

export function describeType(definition: AgentTypeDefinition): AgentTypeInfo {
  return {
    type: definition.type,
    displayName: definition.displayName,
    description: definition.description,
    platforms: definition.platforms,
    config: definition.configSchema,
    metrics: definition.metrics,
  };
}
