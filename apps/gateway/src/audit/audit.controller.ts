import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ValidQuery } from '../http/validation.pipe';
import { toSnakeCaseKeys } from '../live/snake-case';
import { AuditLogService } from './audit-log.service';
import { AuditPage, AuditQuery } from './audit.dto';

@ApiTags('audit')
@ApiKeyAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLogService) {}

  @Get()
  @ApiOperation({
    summary:
      'Audit trail: provisioning, token issue, enrollment, re-enrollment, revocation (newest first), actors by name',
  })
  @ApiOkResponse({ type: AuditPage, description: 'One page of entries, newest first' })
  async list(@CurrentOrg() auth: AuthContext, @ValidQuery() query: AuditQuery) {
    return toSnakeCaseKeys(await this.audit.list(auth, query));
  }
}
