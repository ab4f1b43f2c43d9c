import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { toSnakeCaseKeys } from '../live/snake-case';
import { FleetClient } from './fleet.client';
import { FleetVersionsView } from './fleet-versions.dto';

@ApiTags('fleet')
@ApiKeyAuth()
@Controller('api/v1/fleet/versions')
export class FleetVersionsController {
  constructor(private readonly fleet: FleetClient) {}

  @Get()
  @ApiOperation({
    summary:
      "Agent versions across the fleet: count per version and type, agents behind the platform's build, upgrade commands per type",
  })
  @ApiOkResponse({ type: FleetVersionsView, description: 'Versions, agents behind, how to upgrade' })
  async versions(@CurrentOrg() auth: AuthContext) {
    return toSnakeCaseKeys(await this.fleet.versions(auth.organizationId));
  }
}
