import { Controller, Delete, Get, Param, Put } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { appMetricsProblems } from '@app/agent-core';
import { labelProblems } from '@app/contracts';
import { agentIdParam } from '../agents/agents.controller';
import { apiKeyActor } from '../agents/fleet.client';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ApiJsonBody } from '../http/openapi.decorators';
import { EnvironmentParam } from '../http/params';
import { RequestFieldsError, ValidBody, ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { ConfigsClient } from './configs.client';
import {
  AgentConfigResponse,
  ConfigSettingsBody,
  ConfigStatusesResponse,
  ConfigStatusQuery,
  ConfigStatusView,
  ConfigVersionView,
  EnvironmentConfigResponse,
  toSettings,
} from './configs.dto';

const EXAMPLE: ConfigSettingsBody = {
  log_level: 'debug',
  heartbeat_interval_seconds: 30,
  collect_interval_seconds: 60,
  collectors: ['cpu', 'memory'],
  labels: { team: 'payments' },
};

/**
 * Label keys and app-metrics sections are data, beyond class-validator: checked here so the 400 names
 * `labels.<key>` or `app_metrics.scrape_targets[0].url` (with the agent's own parsers).
 */
function checkedBody(body: ConfigSettingsBody): ConfigSettingsBody {
  const problems = [...labelProblems(body.labels), ...appMetricsProblems(body.app_metrics)];
  if (problems.length) throw new RequestFieldsError(problems);
  return body;
}

/** An environment's versioned configuration, pushed to its agents. */
@ApiTags('configuration')
@ApiKeyAuth()
@Controller('api/v1/environments/:env/config')
export class EnvironmentConfigController {
  constructor(private readonly configs: ConfigsClient) {}

  @Get()
  @ApiOperation({ summary: "An environment's current configuration and its history (newest first)" })
  @ApiOkResponse({ type: EnvironmentConfigResponse })
  @ApiNotFoundResponse({ description: 'The organisation has no such environment' })
  async get(@CurrentOrg() auth: AuthContext, @EnvironmentParam() env: string) {
    return toSnakeCaseKeys(await this.configs.environment(auth.organizationId, env));
  }

  @Put()
  @ApiOperation({
    summary: "Save a new version of the environment's configuration and push it to its running agents",
    description:
      'Every save is a new immutable version. Agents apply it without a restart and acknowledge it; ' +
      'GET /api/v1/agents/:id/config shows each one as applied, pending or failed.',
  })
  @ApiJsonBody(ConfigSettingsBody, EXAMPLE, { description: 'Unset fields keep each agent its own value' })
  @ApiOkResponse({ type: ConfigVersionView, description: 'The version saved' })
  @ApiBadRequestResponse({ description: 'A field is invalid; `errors` names it' })
  @ApiNotFoundResponse({ description: 'The organisation has no such environment' })
  async save(
    @CurrentOrg() auth: AuthContext,
    @EnvironmentParam() env: string,
    @ValidBody() body: ConfigSettingsBody,
  ) {
    const settings = toSettings(checkedBody(body));
    return toSnakeCaseKeys(
      await this.configs.saveEnvironment(auth.organizationId, env, settings, apiKeyActor(auth.apiKeyId)),
    );
  }
}

/** One agent's effective configuration, its override and whether it applied it. */
@ApiTags('configuration')
@ApiKeyAuth()
@Controller('api/v1/agents/:id/config')
export class AgentConfigController {
  constructor(private readonly configs: ConfigsClient) {}

  @Get()
  @ApiOperation({
    summary: "An agent's effective configuration, its override and its status (applied v7, pending, failed)",
  })
  @ApiOkResponse({ type: AgentConfigResponse })
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  async get(@CurrentOrg() auth: AuthContext, @Param('id') id: string) {
    return toSnakeCaseKeys(await this.configs.agent(auth.organizationId, agentIdParam(id)));
  }

  @Put()
  @ApiOperation({
    summary: "Save the agent's override (a new version) and push its effective configuration to it",
  })
  @ApiJsonBody(ConfigSettingsBody, EXAMPLE, { description: "Fields set here win over the environment's" })
  @ApiOkResponse({ type: AgentConfigResponse })
  @ApiBadRequestResponse({ description: 'A field is invalid; `errors` names it' })
  @ApiNotFoundResponse({ description: 'No such agent in this organisation' })
  async save(
    @CurrentOrg() auth: AuthContext,
    @Param('id') id: string,
    @ValidBody() body: ConfigSettingsBody,
  ) {
    const settings = toSettings(checkedBody(body));
    return toSnakeCaseKeys(
      await this.configs.saveOverride(
        auth.organizationId,
        agentIdParam(id),
        settings,
        apiKeyActor(auth.apiKeyId),
      ),
    );
  }

  @Delete()
  @ApiOperation({
    summary: "Remove the agent's override (a new version): it runs the environment's configuration",
  })
  @ApiOkResponse({ type: AgentConfigResponse })
  @ApiNotFoundResponse({ description: 'No such agent, or it has no override' })
  async remove(@CurrentOrg() auth: AuthContext, @Param('id') id: string) {
    return toSnakeCaseKeys(
      await this.configs.saveOverride(
        auth.organizationId,
        agentIdParam(id),
        null,
        apiKeyActor(auth.apiKeyId),
      ),
    );
  }
}

/** The config state of many agents at once, for the agents table. */
@ApiTags('configuration')
@ApiKeyAuth()
@ApiExtraModels(ConfigStatusView)
@Controller('api/v1/config-status')
export class ConfigStatusController {
  constructor(private readonly configs: ConfigsClient) {}

  @Get()
  @ApiOperation({ summary: 'The config status (applied, pending, failed, none) of up to 500 agents' })
  @ApiOkResponse({ type: ConfigStatusesResponse })
  @ApiBadRequestResponse({ description: '`agent_ids` is missing or not agent ids' })
  async list(@CurrentOrg() auth: AuthContext, @ValidQuery() query: ConfigStatusQuery) {
    const { statuses } = await this.configs.statuses(auth.organizationId, query.agent_ids);
    return {
      statuses: Object.fromEntries(
        Object.entries(statuses).map(([id, status]) => [id, toSnakeCaseKeys(status)]),
      ),
    };
  }
}
