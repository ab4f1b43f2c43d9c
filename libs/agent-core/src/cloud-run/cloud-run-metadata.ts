/** How long one metadata-server request may take: it is local to the instance and answers in milliseconds. */
const METADATA_TIMEOUT_MS = 3000;

/** What the agent reads from the metadata server to name its host. */
export interface InstanceIdentity {
  projectId: string;
  projectNumber: string;
  region: string;
  instanceId: string;
}

export class MetadataServerError extends Error {}

/**
 * Cloud Run's metadata server (https://cloud.google.com/run/docs/container-contract#metadata-server):
 * plain-text answers under /computeMetadata/v1/, only to requests carrying `Metadata-Flavor: Google`.
 */
export class MetadataServer {
  constructor(private readonly baseUrl: string) {}

  async identity(): Promise<InstanceIdentity> {
    const [projectId, projectNumber, region, instanceId] = await Promise.all([
      this.get('project/project-id'),
      this.get('project/numeric-project-id'),
      this.get('instance/region'),
      this.get('instance/id'),
    ]);
    // instance/region answers `projects/<number>/regions/<region>`.
    return { projectId, projectNumber, region: region.split('/').pop()!, instanceId };
  }

  private async get(path: string): Promise<string> {
    const url = `${this.baseUrl}/computeMetadata/v1/${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { 'Metadata-Flavor': 'Google' },
        signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
      });
    } catch (error) {
      throw new MetadataServerError(
        `metadata server ${this.baseUrl} unreachable: ${(error as Error).message}`,
      );
    }
    const text = (await response.text()).trim();
    if (!response.ok)
      throw new MetadataServerError(
        `metadata server answered ${path} with ${response.status}: ${text.slice(0, 200)}`,
      );
    if (response.headers.get('metadata-flavor') !== 'Google')
      throw new MetadataServerError(
        `${this.baseUrl} answered ${path} without Metadata-Flavor: Google: not a metadata server`,
      );
    if (!text) throw new MetadataServerError(`metadata server answered ${path} with nothing`);
    return text;
  }
}
