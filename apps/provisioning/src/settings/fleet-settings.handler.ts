import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { FleetSettings, OrganizationScopedRequest, PutFleetSettingsRequest, Subjects } from '@app/contracts';
import { FleetSettingsService } from './fleet-settings.service';

@Controller()
export class FleetSettingsHandler {
  constructor(private readonly settings: FleetSettingsService) {}

  @MessagePattern(Subjects.fleet.getSettings)
  get(@Payload() request: OrganizationScopedRequest): Promise<FleetSettings> {
    return this.settings.get(request.organizationId);
  }

  @MessagePattern(Subjects.fleet.putSettings)
  put(@Payload() request: PutFleetSettingsRequest): Promise<FleetSettings> {
    return this.settings.put(
      request.organizationId,
      { inactiveAgentCleanupDays: request.inactiveAgentCleanupDays },
      request.actor ?? 'system',
    );
  }
}
