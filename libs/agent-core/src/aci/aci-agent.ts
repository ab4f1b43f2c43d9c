import { HostIdentity } from '@app/contracts';
import { AgentOptions, BaseAgent } from '../base-agent';

/**
 * Runs as one container of an ACI container group. ACI documents no environment variable naming the
 * group, and a container's hostname is not its group's name, so the generated group passes the names
 * in (RCA_RESOURCE_GROUP, RCA_CONTAINER_GROUP): the host is the container group, and a
 * re-created group of the same name in the same resource group is the same host again.
 */
export class AciAgent extends BaseAgent {
  constructor(
    options: AgentOptions,
    private readonly group: { resourceGroup: string; containerGroup: string },
  ) {
    super(options);
  }

  protected override async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    const base = await super.describeHost(fallbackId);
    const { resourceGroup, containerGroup } = this.group;
    return {
      ...base,
      hostname: containerGroup,
      hostId: `aci-${resourceGroup}-${containerGroup}`.toLowerCase(),
    };
  }
}
