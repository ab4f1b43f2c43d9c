import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@app/clock';
import {
  DomainError,
  ErrorCodes,
  MAX_QUERY_BUCKETS,
  MetricsCatalogResult,
  MetricsQueryRequest,
  MetricsQueryResult,
  ValidationFailedError,
} from '@app/contracts';
import { FleetClient } from '../agents/fleet.client';
import { AgentMetricsQuery, parseInstant } from './agent-metrics.dto';

const DEFAULT_WINDOW_MS = 3_600_000;
const DEFAULT_STEP_SECONDS = 60;
const MAX_STEP_SECONDS = 86_400;

/** `GET /agents/:id/metrics`: the query checked in the API's own terms, then asked of ingestion. */
@Injectable()
export class AgentMetricsService {
  constructor(
    private readonly fleet: FleetClient,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** Metric discovery: the names the agent has sent since `from` (default a day ago), with unit, tags, newest sample. */
  async catalog(organizationId: string, agentId: string, from?: string): Promise<MetricsCatalogResult> {
    const agent = await this.fleet.getAgent(organizationId, agentId);
    const since = from === undefined ? undefined : parseInstant(from);
    if (since !== undefined && !Number.isFinite(since))
      throw new ValidationFailedError([{ field: 'from', reason: 'not a valid instant' }]);
    return this.fleet.metricsCatalog({ organizationId, agentId: agent.id, since }).catch((error: unknown) => {
      // Ingestion knows an agent from its first heartbeat or batch: before that, it has sent nothing.
      if (error instanceof DomainError && error.code === ErrorCodes.NOT_FOUND)
        return {
          agentId: agent.id,
          since: since ?? this.clock.now() - 86_400_000,
          metrics: [],
          truncated: false,
        };
      throw error;
    });
  }

  async query(
    organizationId: string,
    agentId: string,
    query: AgentMetricsQuery & { name: string },
  ): Promise<MetricsQueryResult> {
    // The registry answers "is this agent ours?"; metrics storage is only asked about our own agents.
    const agent = await this.fleet.getAgent(organizationId, agentId);
    const to = query.to === undefined ? this.clock.now() : parseInstant(query.to);
    const from = query.from === undefined ? to - DEFAULT_WINDOW_MS : parseInstant(query.from);
    const stepSeconds = query.step === undefined ? DEFAULT_STEP_SECONDS : Number(query.step);
    checkRange(from, to, stepSeconds);
    const request = {
      organizationId,
      agentId: agent.id,
      name: query.name,
      from,
      to,
      stepSeconds,
      tag: query.tag,
    };
    // Ingestion knows an agent from its first heartbeat or batch: before that, nothing is stored.
    const result = await this.fleet.queryMetrics(request).catch((error: unknown) => {
      if (error instanceof DomainError && error.code === ErrorCodes.NOT_FOUND) return nothingStored(request);
      throw error;
    });
    // A declared metric with no sample yet (a new agent) is an empty series; a name neither declared nor
    // ever stored is a typo, and an empty 200 would hide it.
    if (result.newestSampleAt === null) {
      const declared = (await this.fleet.types()).find((t) => t.type === agent.type)?.metrics ?? [];
      const names = declared.map((m) => m.name);
      if (!names.includes(query.name)) throw new UnknownMetricError(query.name, agent.type, names);
    }
    return result;
  }
}

function nothingStored(request: MetricsQueryRequest): MetricsQueryResult {
  const { agentId, name, from, to, stepSeconds } = request;
  return { agentId, name, from, to, stepSeconds, series: [], newestSampleAt: null, stale: true };
}

/** 404 naming the metric and what the agent's type reports instead. */
export class UnknownMetricError extends DomainError {
  constructor(name: string, agentType: string, known: string[]) {
    super(
      ErrorCodes.NOT_FOUND,
      `metric "${name}" not found for this agent; ${agentType} agents report: ${known.join(', ') || 'nothing declared'}`,
      [{ field: 'name', reason: `unknown metric "${name}"` }],
    );
  }
}

function checkRange(from: number, to: number, stepSeconds: number): void {
  if (!Number.isFinite(from))
    throw new ValidationFailedError([{ field: 'from', reason: 'not a valid instant' }]);
  if (!Number.isFinite(to)) throw new ValidationFailedError([{ field: 'to', reason: 'not a valid instant' }]);
  if (to <= from) throw new ValidationFailedError([{ field: 'to', reason: 'must be after from' }]);
  if (stepSeconds < 1 || stepSeconds > MAX_STEP_SECONDS) {
    throw new ValidationFailedError([
      { field: 'step', reason: `must be between 1 and ${MAX_STEP_SECONDS} seconds` },
    ]);
  }
  if ((to - from) / (stepSeconds * 1000) > MAX_QUERY_BUCKETS) {
    throw new ValidationFailedError([
      { field: 'step', reason: `too small for this range: at most ${MAX_QUERY_BUCKETS} buckets` },
    ]);
  }
}
