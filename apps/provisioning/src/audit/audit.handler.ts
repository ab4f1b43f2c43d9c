import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuditEntry, ListAuditRequest, Page, Subjects } from '@app/contracts';
import { AuditService } from './audit.service';

@Controller()
export class AuditHandler {
  constructor(private readonly audit: AuditService) {}

  @MessagePattern(Subjects.fleet.audit)
  list(@Payload() request: ListAuditRequest): Promise<Page<AuditEntry>> {
    return this.audit.list(request.organizationId, request);
  }
}
