import { HostIdentity } from '@app/contracts';
import { AgentOptions, BaseAgent } from '../base-agent';
import { NomadApi } from './nomad-api';

/**
 * Runs as one allocation of a system job per client node, in a container whose hostname and machine id
 * are the allocation's: the host is therefore the Nomad node (its name, `nomad-<node id>`), so a
 * rescheduled agent on the same node is the same host again.
 */
export class NomadAgent extends BaseAgent {
  constructor(
    options: AgentOptions,
    private readonly api: NomadApi,
    private readonly nodeId: string | undefined,
  ) {
    super(options);
  }

  protected override async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    const base = await super.describeHost(fallbackId);
    if (!this.nodeId) return base;
    let name: string | undefined;
    try {
      name = (await this.api.nodes()).find((node) => node.ID === this.nodeId)?.Name;
    } catch (error) {
      this.log.warn(
        { err: error },
        'could not read the node from the Nomad API; using its ID as the hostname',
      );
    }
    return { ...base, hostname: name ?? this.nodeId, hostId: `nomad-${this.nodeId}` };
  }
}
