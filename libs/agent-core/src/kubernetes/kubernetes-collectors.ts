import { CoreV1Api, HttpError, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { summarizeNodes, summarizePods } from './cluster-summary';
import { DiscoveredTargetsCollector } from '../app-metrics/discovered-targets-collector';
import { scrapeTargetOfPod } from './annotated-pods';
import { KubernetesAgentConfig } from './kubernetes-config';

/** The agent's default collection interval, when a caller does not say (tests). */
const DEFAULT_COLLECT_INTERVAL_SECONDS = 10;

/** Page size for list calls: large clusters are read in pages instead of one huge answer. */
const LIST_PAGE_SIZE = 500;

/**
 * In a pod (the API server's address is injected as KUBERNETES_SERVICE_HOST) the service account
 * is used; elsewhere the usual kubeconfig (KUBECONFIG or ~/.kube/config).
 */
export function loadKubeConfig(inCluster: boolean): KubeConfig {
  const kc = new KubeConfig();
  if (inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** Turns the client's HttpError (message "HTTP request failed") into one that says what the API said. */
export function describeApiError(what: string, error: unknown): Error {
  if (error instanceof HttpError) {
    const body = error.body as { message?: string; reason?: string } | undefined;
    return new Error(
      `${what}: HTTP ${error.statusCode ?? '?'} ${body?.reason ?? ''}${body?.message ? `: ${body.message}` : ''}`.trim(),
    );
  }
  return new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
}

export class KubernetesNodesCollector implements Collector {
  readonly name = 'kubernetes.nodes';
  constructor(private readonly api: CoreV1Api) {}

  async collect(): Promise<MetricSample[]> {
    try {
      const { body } = await this.api.listNode();
      return summarizeNodes(body.items);
    } catch (error) {
      throw describeApiError('list nodes', error);
    }
  }
}

/** Every pod (every page), in one namespace or all; errors say what was asked and what the API said. */
export async function listPods(api: CoreV1Api, namespace?: string): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  let next: string | undefined;
  try {
    do {
      const { body } = namespace
        ? await api.listNamespacedPod(
            namespace,
            undefined,
            undefined,
            next,
            undefined,
            undefined,
            LIST_PAGE_SIZE,
          )
        : await api.listPodForAllNamespaces(undefined, next, undefined, undefined, LIST_PAGE_SIZE);
      pods.push(...body.items);
      next = body.metadata?._continue || undefined;
    } while (next);
  } catch (error) {
    throw describeApiError(namespace ? `list pods in namespace ${namespace}` : 'list pods', error);
  }
  return pods;
}

export class KubernetesPodsCollector implements Collector {
  readonly name = 'kubernetes.pods';
  constructor(
    private readonly api: CoreV1Api,
    /** Undefined: every namespace. */
    private readonly namespace?: string,
  ) {}

  async collect(): Promise<MetricSample[]> {
    return summarizePods(await listPods(this.api, this.namespace));
  }
}

/** Cluster scope reads nodes and all pods; namespace scope has no node access (a Role cannot grant it). */
export function createKubernetesCollectors(
  config: KubernetesAgentConfig,
  kc: KubeConfig,
  collectIntervalSeconds = DEFAULT_COLLECT_INTERVAL_SECONDS,
): Collector[] {
  const api = kc.makeApiClient(CoreV1Api);
  const namespace = config.scope === 'cluster' ? undefined : config.namespace;
  const collectors: Collector[] =
    config.scope === 'cluster'
      ? [new KubernetesNodesCollector(api), new KubernetesPodsCollector(api)]
      : [new KubernetesPodsCollector(api, namespace)];
  if (config.scrape_pods === 'on')
    collectors.push(
      new DiscoveredTargetsCollector(
        'scrape:kubernetes-pods',
        'pods',
        async () => (await listPods(api, namespace)).flatMap((pod) => scrapeTargetOfPod(pod) ?? []),
        collectIntervalSeconds,
      ),
    );
  return collectors;
}
