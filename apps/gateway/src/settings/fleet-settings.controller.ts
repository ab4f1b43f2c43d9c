import { Controller, Get, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetSettings, OrganizationScopedRequest, PutFleetSettingsRequest, Subjects } from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { apiKeyActor } from '../agents/fleet.client';
import { FleetSettingsBody, FleetSettingsView } from '../agents/agent-lifecycle.dto';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ApiJsonBody } from '../http/openapi.decorators';
import { ValidBody } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';

/** The organisation's fleet settings (provisioning keeps them). */
@ApiTags('settings')
@ApiKeyAuth()
@Controller('api/v1/settings/fleet')
export class FleetSettingsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @ApiOperation({ summary: "The organisation's fleet settings" })
  @ApiOkResponse({ type: FleetSettingsView, description: 'Every setting; null = off' })
  async get(@CurrentOrg() auth: AuthContext) {
    const settings = await this.rpc.request<FleetSettings, OrganizationScopedRequest>(
      Subjects.fleet.getSettings,
      {
        organizationId: auth.organizationId,
      },
    );
    return toSnakeCaseKeys(settings);
  }

  @Put()
  @ApiOperation({
    summary: 'Set the fleet settings: inactive_agent_cleanup_days (null turns the cleanup off)',
  })
  @ApiJsonBody(FleetSettingsBody, { inactive_agent_cleanup_days: 30 })
  @ApiOkResponse({ type: FleetSettingsView, description: 'The settings now in force' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  async put(@CurrentOrg() auth: AuthContext, @ValidBody() body: FleetSettingsBody) {
    const settings = await this.rpc.request<FleetSettings, PutFleetSettingsRequest>(
      Subjects.fleet.putSettings,
      {
        organizationId: auth.organizationId,
        inactiveAgentCleanupDays: body.inactive_agent_cleanup_days,
        actor: apiKeyActor(auth.apiKeyId),
      },
    );
    return toSnakeCaseKeys(settings);
  }
}
