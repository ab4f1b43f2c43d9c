import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@app/clock';
import {
  AgentsLastSeenRequest,
  AgentsLastSeenResult,
  IngestionStats,
  MAX_QUERY_BUCKETS,
  MetricSeries,
  MetricsQueryRequest,
  MetricsQueryResult,
  NotFoundError,
  ValidationFailedError,
} from '@app/contracts';
import { IngestionConfig } from '../config';
import { AgentsRepository, parseHealth } from '../liveness/agents.repository';
import { MetricsConsumer } from '../metrics/metrics-consumer';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { SeriesReader } from './series-reader';

/** Reads stored metrics for the gateway, scoped by organisation, and reports the pipeline's state. */
@Injectable()
export class MetricsQueryService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly samples: SeriesReader,
    private readonly consumer: MetricsConsumer,
    private readonly metrics: IngestionMetrics,
    private readonly config: IngestionConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async query(request: MetricsQueryRequest): Promise<MetricsQueryResult> {
    const { organizationId, agentId, name, from, to, stepSeconds } = request;
    if (to <= from) throw new ValidationFailedError([{ field: 'to', reason: 'must be after from' }]);
    const stepMs = stepSeconds * 1000;
    if ((to - from) / stepMs > MAX_QUERY_BUCKETS)
      throw new ValidationFailedError([
        { field: 'stepSeconds', reason: `too small for this range: at most ${MAX_QUERY_BUCKETS} buckets` },
      ]);
    const filter = request.tag ? parseTagFilter(request.tag) : undefined;
    const agent = await this.agents.find(organizationId, agentId);
    if (!agent) throw new NotFoundError(`agent ${agentId}`);

    const series = new Map<string, MetricSeries>();
    for (const row of await this.samples.bucketed(agentId, name, from, to, stepMs)) {
      let s = series.get(row.tags);
      if (!s) {
        const tags = JSON.parse(row.tags) as Record<string, string>;
        if (filter && tags[filter.key] !== filter.value) continue;
        series.set(row.tags, (s = { tags, unit: row.unit, points: [] }));
      }
      s.points.push({
        ts: row.bucket,
        avg: row.avg,
        min: row.min,
        max: row.max,
        last: row.last,
        count: row.count,
      });
    }
    const newestSampleAt = await this.samples.newestSampleAt(agentId, name);
    const expectedWithinMs = this.config.LIVENESS_MISSED_HEARTBEATS * agent.interval_seconds * 1000;
    const stale = newestSampleAt === null || this.clock.now() - newestSampleAt > expectedWithinMs;
    return { agentId, name, from, to, stepSeconds, series: [...series.values()], newestSampleAt, stale };
  }

  async lastSeen(request: AgentsLastSeenRequest): Promise<AgentsLastSeenResult> {
    const seen = await this.agents.lastSeen(request.organizationId, [...new Set(request.agentIds)]);
    return {
      lastSeen: Object.fromEntries(seen.map((a) => [a.agentId, a.lastSeenAt])),
      health: Object.fromEntries(
        seen.map((a) => [
          a.agentId,
          { ...parseHealth(a.health), version: a.version, reportedAt: a.health ? a.lastSeenAt : null },
        ]),
      ),
    };
  }

  async stats(): Promise<IngestionStats> {
    const [counts, lag] = await Promise.all([
      this.agents.countByStatus(),
      this.consumer.lag().catch(() => -1),
    ]);
    return {
      agentsOnline: counts.online,
      agentsTracked: counts.tracked,
      heartbeatsAccepted: await this.metrics.total(this.metrics.accepted, { kind: 'heartbeat' }),
      metricsBatchesStored: await this.metrics.total(this.metrics.batchesStored),
      samplesStored: await this.metrics.total(this.metrics.samplesStored),
      rejectedByReason: await this.metrics.rejectedByReason(),
      deadLettered: await this.metrics.total(this.metrics.deadLettered),
      consumerLag: lag,
    };
  }
}

function parseTagFilter(tag: string): { key: string; value: string } {
  const at = tag.indexOf('=');
  if (at <= 0) throw new ValidationFailedError([{ field: 'tag', reason: 'must be key=value' }]);
  return { key: tag.slice(0, at), value: tag.slice(at + 1) };
}
