/** The parts of Nomad's HTTP API answers the agent reads (https://developer.hashicorp.com/nomad/api-docs). */
export interface NomadNodeStub {
  ID: string;
  Name: string;
  Datacenter: string;
  NodeClass?: string;
  Status: string;
  SchedulingEligibility: string;
  Drain?: boolean;
  /** Present with `?resources=true` (Nomad 1.3+). */
  NodeResources?: {
    Cpu?: { CpuShares?: number };
    Memory?: { MemoryMB?: number };
    Disk?: { DiskMB?: number };
  };
}

export interface NomadAllocationStub {
  ID: string;
  NodeID: string;
  JobID: string;
  ClientStatus: string;
  TaskStates?: Record<string, { Restarts?: number }> | null;
}

export interface NomadJobSummary {
  JobID: string;
  Summary: Record<
    string,
    Partial<Record<'Queued' | 'Starting' | 'Running' | 'Complete' | 'Failed' | 'Lost' | 'Unknown', number>>
  >;
}

export interface NomadJobStub {
  ID: string;
  Status: string;
  Type: string;
  /** Embedded by current Nomad versions; when absent the summary is fetched per job. */
  JobSummary?: NomadJobSummary | null;
}

/** A refusal or failure of the Nomad API, with what to do about it. */
export class NomadApiError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Jobs whose summary is fetched one by one at most (older Nomad without embedded summaries). */
const MAX_SUMMARY_REQUESTS = 100;

export class NomadApi {
  constructor(
    private readonly address: string,
    private readonly namespace: string,
    private readonly token: () => string | undefined,
    private readonly timeoutMs: number,
  ) {}

  nodes(): Promise<NomadNodeStub[]> {
    return this.get('/v1/nodes', { resources: 'true' });
  }

  allocations(): Promise<NomadAllocationStub[]> {
    return this.get('/v1/allocations', { namespace: this.namespace, task_states: 'true' });
  }

  jobs(): Promise<NomadJobStub[]> {
    return this.get('/v1/jobs', { namespace: this.namespace });
  }

  summary(jobId: string): Promise<NomadJobSummary> {
    return this.get(`/v1/job/${encodeURIComponent(jobId)}/summary`, { namespace: this.namespace });
  }

  /** Summaries of the jobs, from the job list where embedded, else one request each (bounded). */
  async summaries(jobs: NomadJobStub[]): Promise<NomadJobSummary[]> {
    const embedded = jobs.filter((job) => job.JobSummary).map((job) => job.JobSummary!);
    const missing = jobs.filter((job) => !job.JobSummary).slice(0, MAX_SUMMARY_REQUESTS);
    return [...embedded, ...(await Promise.all(missing.map((job) => this.summary(job.ID))))];
  }

  private async get<T>(path: string, query: Record<string, string>): Promise<T> {
    const url = `${this.address}${path}?${new URLSearchParams(query)}`;
    const token = this.token();
    let response: Response;
    try {
      response = await fetch(url, {
        headers: token ? { 'X-Nomad-Token': token } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new NomadApiError(
        undefined,
        `Nomad API at ${this.address} unreachable: ${(error as Error).message}`,
      );
    }
    if (response.status === 403)
      throw new NomadApiError(
        403,
        `Nomad refused ${path} (403 ${(await response.text()).trim().slice(0, 100)}): the ACL token needs node:read and namespace "${this.namespace}" read-job (see docs/deploying-agents.md)`,
      );
    if (!response.ok)
      throw new NomadApiError(
        response.status,
        `Nomad answered ${path} with ${response.status}: ${(await response.text()).slice(0, 200)}`,
      );
    return (await response.json()) as T;
  }
}
