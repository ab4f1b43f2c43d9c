import { Collector } from '../agent-type';
import { OwnCgroupCollector } from '../collectors/cgroup-readings';

/** The name the generated container group gives the agent's container. */
export const AGENT_CONTAINER_NAME = 'rca-agent';

/** CPU and memory of the agent's own container from its cgroup (v1 or v2) under `root`. */
export class AciCgroupCollector extends OwnCgroupCollector implements Collector {
  constructor(root: string, containerGroup: string, now: () => number = Date.now) {
    super(
      'aci.cgroup',
      'aci',
      root,
      { container_group: containerGroup, container: AGENT_CONTAINER_NAME },
      now,
    );
  }
}
