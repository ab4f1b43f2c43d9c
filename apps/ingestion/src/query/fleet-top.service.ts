import { Injectable } from '@nestjs/common';
import {
  MAX_TOP_AGENTS,
  MAX_TOP_WINDOW_MS,
  METRIC_NAME_PATTERN,
  MetricsTopEntry,
  MetricsTopRequest,
  MetricsTopResult,
  TOP_AGENTS_BY,
  ValidationFailedError,
} from '@app/contracts';
import { addSample, mergeAggregate } from '../metrics/aggregates';
import { Aggregate } from '../metrics/chunk-codec';
import { StoredMetricsRepository } from '../metrics/stored-metrics.repository';
import { foldRange, MINUTE_MS, planRange } from './series-reader';

/**
 * The fleet overview's "top N": an organisation's agents ranked by one metric over a window, all
 * series of the metric of an agent (e.g. every core) folded into one aggregate. Reads the 1-minute
 * rollups of the window's whole minutes and the chunks of the rest, for the whole organisation at once.
 */
@Injectable()
export class FleetTopService {
  constructor(private readonly repository: StoredMetricsRepository) {}

  async top(request: MetricsTopRequest): Promise<MetricsTopResult> {
    const { organizationId, name, from, to, by, limit } = check(request);
    const filter = request.tag ? parseTag(request.tag) : undefined;
    const series = (await this.repository.seriesOfOrganization(organizationId, name)).filter(
      (s) => !filter || (JSON.parse(s.tags) as Record<string, string>)[filter.key] === filter.value,
    );
    const agentOf = new Map(series.map((s) => [s.seriesId, s.agentId]));
    const plan = planRange(from, to, MINUTE_MS);
    const [rollups, chunks] = agentOf.size
      ? await Promise.all([
          plan.tier
            ? this.repository.rollupsOfOrganization(
                organizationId,
                name,
                plan.tier.stepMs,
                plan.rollupsFrom,
                plan.innerTo,
              )
            : [],
          this.repository.chunksOfOrganization(organizationId, plan.fromHour, to, plan.chunks),
        ])
      : [[], []];
    const perAgent = new Map<string, Aggregate>();
    const only = new Set(agentOf.keys());
    foldRange(plan, rollups, chunks, only, {
      sample: (id, ts, value) => {
        const agentId = agentOf.get(id)!;
        perAgent.set(agentId, addSample(perAgent.get(agentId), ts, value));
      },
      bucket: (b) => {
        const agentId = agentOf.get(b.seriesId)!;
        perAgent.set(agentId, mergeAggregate(perAgent.get(agentId), b));
      },
    });
    const agents: MetricsTopEntry[] = [...perAgent].map(([agentId, a]) => {
      const avg = a.sum / a.count;
      const value = by === 'avg' ? avg : by === 'max' ? a.max : by === 'min' ? a.min : a.last;
      return { agentId, value, avg, min: a.min, max: a.max, last: a.last, count: a.count };
    });
    agents.sort((x, y) => y.value - x.value || (x.agentId < y.agentId ? -1 : 1));
    return { name, from, to, by, agents: agents.slice(0, limit) };
  }
}

function check(r: MetricsTopRequest): MetricsTopRequest {
  const errors: { field: string; reason: string }[] = [];
  if (typeof r.organizationId !== 'string' || !r.organizationId)
    errors.push({ field: 'organizationId', reason: 'required' });
  if (typeof r.name !== 'string' || !METRIC_NAME_PATTERN.test(r.name))
    errors.push({ field: 'name', reason: 'must be a metric name' });
  if (!Number.isFinite(r.from) || !Number.isFinite(r.to) || r.to <= r.from)
    errors.push({ field: 'to', reason: 'must be after from' });
  else if (r.to - r.from > MAX_TOP_WINDOW_MS)
    errors.push({ field: 'from', reason: `the window is at most ${MAX_TOP_WINDOW_MS / 86_400_000} days` });
  if (!TOP_AGENTS_BY.includes(r.by))
    errors.push({ field: 'by', reason: `one of ${TOP_AGENTS_BY.join(', ')}` });
  if (!Number.isInteger(r.limit) || r.limit < 1 || r.limit > MAX_TOP_AGENTS)
    errors.push({ field: 'limit', reason: `1–${MAX_TOP_AGENTS}` });
  if (errors.length) throw new ValidationFailedError(errors);
  return r;
}

function parseTag(tag: string): { key: string; value: string } {
  const at = tag.indexOf('=');
  if (at <= 0) throw new ValidationFailedError([{ field: 'tag', reason: 'must be key=value' }]);
  return { key: tag.slice(0, at), value: tag.slice(at + 1) };
}
