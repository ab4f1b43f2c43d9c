import { hostname } from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { HostIdentity } from '@app/contracts';
import { AgentOptions, BaseAgent } from '../base-agent';

/**
 * The "host" of a Kubernetes agent is the cluster: the id is the kube-system namespace's UID, the
 * de-facto cluster id (the pod's key and identity live on its volume, so a restarted pod is the same
 * agent). Without read access to kube-system (namespace scope) it is the agent's namespace in the
 * current cluster. With `replicas` > 1 each pod is its own agent (its pod name joins the id).
 */
export class KubernetesAgent extends BaseAgent {
  constructor(
    options: AgentOptions,
    private readonly kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly replicas = 1,
  ) {
    super(options);
  }

  protected override async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    const cluster = await this.describeCluster(fallbackId);
    if (this.replicas <= 1) return cluster;
    return { ...cluster, hostId: `${cluster.hostId}-${hostname()}`.slice(0, 255) };
  }

  private async describeCluster(fallbackId: string | undefined): Promise<HostIdentity> {
    const base = await super.describeHost(fallbackId);
    const cluster = this.kubeConfig.getCurrentCluster();
    const server = cluster?.server ?? 'in-cluster';
    try {
      const { body } = await this.kubeConfig.makeApiClient(CoreV1Api).readNamespace('kube-system');
      const uid = body.metadata?.uid;
      if (uid) return { ...base, hostname: cluster?.name || base.hostname, hostId: `k8s-${uid}` };
    } catch (error) {
      this.log.info(
        { err: error },
        'kube-system is not readable; identifying the cluster by its API server address',
      );
    }
    return {
      ...base,
      hostname: cluster?.name || base.hostname,
      hostId: `k8s-${server}-${this.namespace}`.slice(0, 255),
    };
  }
}
