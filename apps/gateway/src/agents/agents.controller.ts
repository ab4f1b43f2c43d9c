import { Controller, Delete, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AGENT_ID_PATTERN, NotFoundError } from '@app/contracts';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { AgentsReader } from './agents-reader';
import { AgentPage, AgentView, ListAgentsQuery } from './agents.dto';
import { apiKeyActor, FleetClient } from './fleet.client';

/** An id that could never exist is simply not found (not a validation error that reveals the id format). */
export function agentIdParam(id: string): string {
  if (!AGENT_ID_PATTERN.test(id)) throw new NotFoundError(`agent ${id}`);
  return id;
}

@ApiTags('agents')
@ApiKeyAuth()
@Controller('api/v1/agents')
export class AgentsController {
  constructor(
    private readonly fleet: FleetClient,
    private readonly agents: AgentsReader,
  ) {}

  @Get()
  @ApiOperation({
    summary: "List the organisation's agents (filters, paginated; `total` counts all matches)",
  })
  @ApiOkResponse({ type: AgentPage, description: 'One page of agents' })
  async list(@CurrentOrg() auth: AuthContext, @ValidQuery() query: ListAgentsQuery) {
    return toSnakeCaseKeys(await this.agents.list({ organizationId: auth.organizationId, ...query }));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One agent' })
  @ApiOkResponse({ type: AgentView, description: 'The agent' })
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  async get(@CurrentOrg() auth: AuthContext, @Param('id') id: string) {
    return toSnakeCaseKeys(await this.agents.get(auth.organizationId, agentIdParam(id)));
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Revoke (unenroll) an agent: its credential stops working, its status becomes revoked',
  })
  @ApiOkResponse({ type: AgentView, description: 'The revoked agent' })
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  async revoke(@CurrentOrg() auth: AuthContext, @Param('id') id: string) {
    return toSnakeCaseKeys(
      await this.fleet.revokeAgent(auth.organizationId, agentIdParam(id), apiKeyActor(auth.apiKeyId)),
    );
  }
}
