import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { toSnakeCaseKeys } from '../live/snake-case';
import { FleetSummaryView } from './fleet-summary.dto';
import { FleetSummaryService } from './fleet-summary.service';

@ApiTags('fleet')
@Controller('api/v1/fleet')
export class FleetSummaryController {
  constructor(private readonly summaries: FleetSummaryService) {}

  @Get('summary')
  @ApiKeyAuth()
  @ApiOperation({
    summary:
      'Fleet overview: agent counts by status, type and environment, recent offline agents, ingestion health',
  })
  @ApiOkResponse({ type: FleetSummaryView, description: 'Counts, recent offline agents, ingestion health' })
  async summary(@CurrentOrg() auth: AuthContext) {
    return toSnakeCaseKeys(await this.summaries.summarize(auth.organizationId));
  }
}
