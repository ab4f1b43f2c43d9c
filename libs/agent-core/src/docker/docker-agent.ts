import Docker from 'dockerode';
import { HostIdentity } from '@app/contracts';
import { AgentOptions, BaseAgent } from '../base-agent';
import { dockerClientOptions } from './docker-collectors';

/**
 * Runs in a container next to the daemon, where the hostname is a random container id: the host is
 * therefore the daemon (its name and ID), so a re-created agent container is the same host again.
 */
export class DockerAgent extends BaseAgent {
  constructor(
    options: AgentOptions,
    private readonly dockerHost: string | undefined,
  ) {
    super(options);
  }

  protected override async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    const base = await super.describeHost(fallbackId);
    try {
      const info = (await new Docker(dockerClientOptions(this.dockerHost)).info()) as {
        Name?: string;
        ID?: string;
      };
      return {
        ...base,
        hostname: info.Name || base.hostname,
        hostId: info.ID ? `docker-${info.ID}` : base.hostId,
      };
    } catch (error) {
      this.log.warn(
        { err: error },
        "could not reach the Docker daemon to identify the host; using the container's identity",
      );
      return base;
    }
  }
}
