import { CoreV1Api, HttpError, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { summarizeNodes, summarizePods } from './cluster-summary';
import { KubernetesAgentConfig } from './kubernetes-config';

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

export class KubernetesPodsCollector implements Collector {
  readonly name = 'kubernetes.pods';
  constructor(
    private readonly api: CoreV1Api,
    /** Undefined: every namespace. */
    private readonly namespace?: string,
  ) {}

  async collect(): Promise<MetricSample[]> {
    const pods: V1Pod[] = [];
    let next: string | undefined;
    try {
      do {
        const { body } = this.namespace
          ? await this.api.listNamespacedPod(
              this.namespace,
              undefined,
              undefined,
              next,
              undefined,
              undefined,
              LIST_PAGE_SIZE,
            )
          : await this.api.listPodForAllNamespaces(undefined, next, undefined, undefined, LIST_PAGE_SIZE);
        pods.push(...body.items);
        next = body.metadata?._continue || undefined;
      } while (next);
    } catch (error) {
      throw describeApiError(
        this.namespace ? `list pods in namespace ${this.namespace}` : 'list pods',
        error,
      );
    }
    return summarizePods(pods);
  }
}

/** Cluster scope reads nodes and all pods; namespace scope has no node access (a Role cannot grant it). */
export function createKubernetesCollectors(config: KubernetesAgentConfig, kc: KubeConfig): Collector[] {
  const api = kc.makeApiClient(CoreV1Api);
  return config.scope === 'cluster'
    ? [new KubernetesNodesCollector(api), new KubernetesPodsCollector(api)]
    : [new KubernetesPodsCollector(api, config.namespace)];
}
