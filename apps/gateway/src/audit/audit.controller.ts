import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { FleetClient } from '../agents/fleet.client';
import { AuditQuery } from './audit.dto';

@ApiTags('audit')
@ApiKeyAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly fleet: FleetClient) {}

  @Get()
  @ApiOperation({
    summary: 'Audit trail: provisioning, token issue, enrollment, re-enrollment, revocation (newest first)',
  })
  @ApiOkResponse({ description: '{ items: AuditEntry[], total, limit, offset }' })
  async list(@CurrentOrg() auth: AuthContext, @ValidQuery() query: AuditQuery) {
    const page = await this.fleet.audit({
      organizationId: auth.organizationId,
      action: query.action,
      agentId: query.agent_id,
      limit: query.limit,
      offset: query.offset,
    });
    return toSnakeCaseKeys(page);
  }
}
