import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { agentIdParam } from '../agents/agents.controller';
import { FleetClient } from '../agents/fleet.client';
import { AgentMetricsQuery, parseInstant } from './agent-metrics.dto';

const DEFAULT_WINDOW_MS = 3_600_000;
const DEFAULT_STEP_SECONDS = 60;

@ApiTags('agents')
@ApiKeyAuth()
@Controller('api/v1/agents/:id/metrics')
export class AgentMetricsController {
  constructor(private readonly fleet: FleetClient) {}

  @Get()
  @ApiOperation({ summary: 'One metric of one agent, bucketed (avg/min/max/last/count per step)' })
  @ApiOkResponse({
    description:
      '{ agent_id, name, from, to, step_seconds, series: [{ tags, unit, points }], newest_sample_at, stale }: ' +
      'stale = the newest stored sample is older than the agent’s offline threshold (recent data may be missing)',
  })
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  async query(
    @CurrentOrg() auth: AuthContext,
    @Param('id') id: string,
    @ValidQuery() query: AgentMetricsQuery,
  ) {
    // The registry answers "is this agent ours?"; metrics storage is only asked about our own agents.
    const agent = await this.fleet.getAgent(auth.organizationId, agentIdParam(id));
    const to = query.to === undefined ? Date.now() : parseInstant(query.to);
    const from = query.from === undefined ? to - DEFAULT_WINDOW_MS : parseInstant(query.from);
    const result = await this.fleet.queryMetrics({
      organizationId: auth.organizationId,
      agentId: agent.id,
      name: query.name,
      from,
      to,
      stepSeconds: query.step === undefined ? DEFAULT_STEP_SECONDS : Number(query.step),
      tag: query.tag,
    });
    return toSnakeCaseKeys(result);
  }
}
