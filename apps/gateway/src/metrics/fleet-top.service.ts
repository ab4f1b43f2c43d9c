import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@app/clock';
import { MAX_TOP_AGENTS, MetricsTopResult, ValidationFailedError } from '@app/contracts';
import { FleetClient } from '../agents/fleet.client';
import { parseInstant } from './agent-metrics.dto';
import { FleetTopQuery } from './fleet-top.dto';

const DEFAULT_WINDOW_MS = 3_600_000;
const DEFAULT_LIMIT = 10;

/** `GET /metrics/top`: the query in the API's terms, asked of ingestion for the caller's organisation. */
@Injectable()
export class FleetTopService {
  constructor(
    private readonly fleet: FleetClient,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  top(organizationId: string, query: FleetTopQuery): Promise<MetricsTopResult> {
    const to = query.to === undefined ? this.clock.now() : parseInstant(query.to);
    const from = query.from === undefined ? to - DEFAULT_WINDOW_MS : parseInstant(query.from);
    if (!Number.isFinite(from))
      throw new ValidationFailedError([{ field: 'from', reason: 'not a valid instant' }]);
    if (!Number.isFinite(to))
      throw new ValidationFailedError([{ field: 'to', reason: 'not a valid instant' }]);
    const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
    if (limit < 1 || limit > MAX_TOP_AGENTS)
      throw new ValidationFailedError([
        { field: 'limit', reason: `must be between 1 and ${MAX_TOP_AGENTS}` },
      ]);
    return this.fleet.metricsTop({
      organizationId,
      name: query.name,
      from,
      to,
      by: query.by ?? 'avg',
      limit,
      tag: query.tag,
    });
  }
}
