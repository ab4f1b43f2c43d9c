import { HostIdentity } from '@app/contracts';
import { AgentOptions, BaseAgent } from '../base-agent';
import { MetadataServer } from './cloud-run-metadata';

/** Host ids are at most 255 characters (HostIdentity); Cloud Run instance ids are long hex strings. */
const MAX_HOST_ID = 255;

/**
 * Runs as a sidecar of a Cloud Run service, one per instance. The host is the instance, named from the
 * metadata server (project, region, instance id): instances come and go with scaling, each enrolls as its
 * own agent and goes offline when Cloud Run stops it. Without the metadata server (not on Cloud Run) the
 * agent falls back to the container's own identity and says so.
 */
export class CloudRunAgent extends BaseAgent {
  constructor(
    options: AgentOptions,
    private readonly metadata: MetadataServer,
    private readonly service: string,
  ) {
    super(options);
  }

  protected override async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    const base = await super.describeHost(fallbackId);
    try {
      const { projectId, region, instanceId } = await this.metadata.identity();
      return {
        ...base,
        hostname: `${this.service}-${instanceId.slice(0, 12)}`,
        hostId: `cloudrun-${projectId}-${region}-${this.service}-${instanceId}`.slice(0, MAX_HOST_ID),
      };
    } catch (error) {
      this.log.warn(
        { err: error },
        "could not read the instance's identity from the metadata server; using the container's",
      );
      return base;
    }
  }
}
