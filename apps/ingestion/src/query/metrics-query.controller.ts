import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AgentsLastSeenRequest,
  AgentsLastSeenResult,
  IngestionStats,
  MetricsCatalogRequest,
  MetricsCatalogResult,
  MetricsQueryRequest,
  MetricsQueryResult,
  MetricsTopRequest,
  MetricsTopResult,
  Subjects,
} from '@app/contracts';
import { MetricsCatalogService } from './metrics-catalog.service';
import { MetricsQueryService } from './metrics-query.service';
import { FleetTopService } from './fleet-top.service';

/** Control-plane RPCs over the NestJS NATS transport (queue group `ingestion`). */
@Controller()
export class MetricsQueryController {
  constructor(
    private readonly service: MetricsQueryService,
    private readonly catalogs: MetricsCatalogService,
    private readonly tops: FleetTopService,
  ) {}

  @MessagePattern(Subjects.metricsQuery)
  query(@Payload() request: MetricsQueryRequest): Promise<MetricsQueryResult> {
    return this.service.query(request);
  }

  @MessagePattern(Subjects.agentsLastSeen)
  lastSeen(@Payload() request: AgentsLastSeenRequest): Promise<AgentsLastSeenResult> {
    return this.service.lastSeen(request);
  }

  @MessagePattern(Subjects.metricsCatalog)
  catalog(@Payload() request: MetricsCatalogRequest): Promise<MetricsCatalogResult> {
    return this.catalogs.catalog(request);
  }

  @MessagePattern(Subjects.metricsTop)
  top(@Payload() request: MetricsTopRequest): Promise<MetricsTopResult> {
    return this.tops.top(request);
  }

  @MessagePattern(Subjects.ingestionStats)
  stats(): Promise<IngestionStats> {
    return this.service.stats();
  }
}
