import { Collector } from '../agent-type';
import { OwnCgroupCollector } from '../collectors/cgroup-readings';

/** The name the generated service gives the agent's sidecar container. */
export const AGENT_CONTAINER_NAME = 'rca-agent';

/** CPU and memory of the agent's own sidecar container from its cgroup (v1 or v2) under `root`. */
export class CloudRunCgroupCollector extends OwnCgroupCollector implements Collector {
  constructor(root: string, service: string, now: () => number = Date.now) {
    super('cloudrun.cgroup', 'cloudrun', root, { service, container: AGENT_CONTAINER_NAME }, now);
  }
}
