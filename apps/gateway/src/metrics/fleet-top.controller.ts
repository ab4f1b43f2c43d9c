import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { FleetTopQuery, FleetTopView } from './fleet-top.dto';
import { FleetTopService } from './fleet-top.service';

@ApiTags('fleet')
@ApiKeyAuth()
@Controller('api/v1/metrics/top')
export class FleetTopController {
  constructor(private readonly tops: FleetTopService) {}

  @Get()
  @ApiOperation({
    summary:
      'The organisation’s agents ranked by one metric over a window (e.g. the 10 busiest by CPU in the last hour)',
  })
  @ApiOkResponse({ type: FleetTopView })
  async top(@CurrentOrg() auth: AuthContext, @ValidQuery() query: FleetTopQuery) {
    return toSnakeCaseKeys(await this.tops.top(auth.organizationId, query));
  }
}
