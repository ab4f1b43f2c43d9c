import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { FleetVersionsResult, OrganizationScopedRequest, Subjects } from '@app/contracts';
import { VersionsService } from './versions.service';

@Controller()
export class VersionsHandler {
  constructor(private readonly versions: VersionsService) {}

  @MessagePattern(Subjects.fleet.versions)
  summarize(@Payload() request: OrganizationScopedRequest): Promise<FleetVersionsResult> {
    return this.versions.summarize(request.organizationId);
  }
}
