import { Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidBody } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { apiKeyActor, FleetClient } from '../agents/fleet.client';
import { ApiJsonBody } from '../http/openapi.decorators';
import { AgentTypeView, EnvironmentView, ProvisionBody, ProvisionResultView } from './provision.dto';

@ApiTags('provisioning')
@ApiKeyAuth()
@Controller('api/v1')
export class ProvisioningController {
  constructor(private readonly fleet: FleetClient) {}

  @Get('agent/types')
  @ApiOperation({ summary: 'Agent types: description, platforms, config schema, declared metrics' })
  @ApiOkResponse({ type: [AgentTypeView], description: 'Every agent type this platform provisions' })
  async types() {
    return toSnakeCaseKeys(await this.fleet.types());
  }

  @Post('agent/provision')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Issue an enrollment token for an environment and return the command(s) that install the agent',
  })
  @ApiJsonBody(ProvisionBody, {
    agent_type: 'docker',
    environment_name: 'prod-1',
    config: { log_level: 'info' },
    max_uses: 10,
  })
  @ApiCreatedResponse({
    type: ProvisionResultView,
    description: 'The install command(s) and the enrollment token in them (shown once)',
  })
  @ApiBadRequestResponse({ description: 'Unknown agent_type, bad config.<key>, or bad environment_name' })
  async provision(@CurrentOrg() auth: AuthContext, @ValidBody() body: ProvisionBody) {
    const result = await this.fleet.provision({
      organizationId: auth.organizationId,
      agentType: body.agent_type,
      environmentName: body.environment_name,
      config: body.config,
      expiresAt: body.expires_at,
      maxUses: body.max_uses,
      actor: apiKeyActor(auth.apiKeyId),
    });
    return toSnakeCaseKeys(result);
  }

  @Get('environments')
  @ApiOperation({ summary: "The organisation's environments" })
  @ApiOkResponse({ type: [EnvironmentView], description: 'Every environment of the organisation' })
  async environments(@CurrentOrg() auth: AuthContext) {
    return toSnakeCaseKeys(await this.fleet.environments(auth.organizationId));
  }
}
