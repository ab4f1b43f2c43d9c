import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { agentIdParam } from '../agents/agents.controller';
import { AgentMetricsQuery, MetricsQueryView } from './agent-metrics.dto';
import { AgentMetricsService } from './agent-metrics.service';

@ApiTags('agents')
@ApiKeyAuth()
@Controller('api/v1/agents/:id/metrics')
export class AgentMetricsController {
  constructor(private readonly metrics: AgentMetricsService) {}

  @Get()
  @ApiOperation({ summary: 'One metric of one agent, bucketed (avg/min/max/last/count per step)' })
  @ApiOkResponse({
    type: MetricsQueryView,
    description:
      'The series of the metric (one per tag set), bucketed; `stale`: the newest stored sample is older than ' +
      'the agent’s offline threshold (recent data may be missing)',
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
    return toSnakeCaseKeys(await this.metrics.query(auth.organizationId, agentIdParam(id), query));
  }
}
