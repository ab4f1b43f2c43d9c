import { Controller, Get, Param } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { agentIdParam } from '../agents/agents.controller';
import { AgentMetricsQuery, MetricsCatalogView, MetricsQueryView } from './agent-metrics.dto';
import { AgentMetricsService } from './agent-metrics.service';

@ApiTags('agents')
@ApiKeyAuth()
@Controller('api/v1/agents/:id/metrics')
export class AgentMetricsController {
  constructor(private readonly metrics: AgentMetricsService) {}

  @Get()
  @ApiOperation({
    summary:
      'One metric of one agent, bucketed (avg/min/max/last/count per step); without `name`, the metrics the agent has sent',
  })
  @ApiExtraModels(MetricsQueryView, MetricsCatalogView)
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(MetricsQueryView) }, { $ref: getSchemaPath(MetricsCatalogView) }],
    },
    description:
      'With `name`: the series of the metric (one per tag set), bucketed; `stale`: the newest stored sample is older than ' +
      'the agent’s offline threshold (recent data may be missing). Without `name`: every metric name the agent sent ' +
      'since `from` (default a day ago) with its unit, the tags seen and its newest sample',
  })
  @ApiNotFoundResponse({
    description:
      'No such agent in this organisation, or a metric name its type does not report and never sent',
  })
  async query(
    @CurrentOrg() auth: AuthContext,
    @Param('id') id: string,
    @ValidQuery() query: AgentMetricsQuery,
  ) {
    const agentId = agentIdParam(id);
    const { name } = query;
    if (name === undefined)
      return toSnakeCaseKeys(await this.metrics.catalog(auth.organizationId, agentId, query.from));
    return toSnakeCaseKeys(await this.metrics.query(auth.organizationId, agentId, { ...query, name }));
  }
}
