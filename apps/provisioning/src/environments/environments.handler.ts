import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { EnsureEnvironmentRequest, Environment, OrganizationScopedRequest, Subjects } from '@app/contracts';
import { EnvironmentsService } from './environments.service';

@Controller()
export class EnvironmentsHandler {
  constructor(private readonly environments: EnvironmentsService) {}

  @MessagePattern(Subjects.provisioning.environments)
  list(@Payload() request: OrganizationScopedRequest): Promise<Environment[]> {
    return this.environments.list(request.organizationId);
  }

  @MessagePattern(Subjects.provisioning.ensureEnvironment)
  ensure(@Payload() request: EnsureEnvironmentRequest): Promise<Environment> {
    return this.environments.ensure(request.organizationId, request.name, request.actor ?? 'system');
  }
}
