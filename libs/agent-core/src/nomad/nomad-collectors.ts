import { readFileSync } from 'node:fs';
import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { NomadApi } from './nomad-api';
import { NomadAgentConfig } from './nomad-config';
import { clusterSamples, nodeSamples, reportsCluster } from './nomad-summary';

/** Per request; a Nomad server under load answers list calls within a second or two. */
const NOMAD_TIMEOUT_MS = 5000;

/** The token file is re-read at every collection, so a rotated Nomad Variable takes effect without a restart. */
function tokenFrom(file: string): () => string | undefined {
  return () => {
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch {
      return undefined; // no file: a cluster without ACLs needs no token
    }
  };
}

export function nomadApi(config: NomadAgentConfig): NomadApi {
  return new NomadApi(
    config.nomad_addr,
    config.nomad_namespace,
    tokenFrom(config.nomad_token_file),
    NOMAD_TIMEOUT_MS,
  );
}

/** Nodes, allocations on this node, and (from one agent per cluster) jobs and their summaries. */
export class NomadCollector implements Collector {
  readonly name = 'nomad';

  constructor(
    private readonly api: NomadApi,
    private readonly nodeId: string | undefined,
  ) {}

  async collect(): Promise<MetricSample[]> {
    const nodes = await this.api.nodes();
    const samples: MetricSample[] = [];
    if (this.nodeId) samples.push(...nodeSamples(this.nodeId, nodes, await this.api.allocations()));
    if (reportsCluster(this.nodeId, nodes)) {
      const jobs = await this.api.jobs();
      samples.push(...clusterSamples(nodes, jobs, await this.api.summaries(jobs)));
    }
    return samples;
  }
}
