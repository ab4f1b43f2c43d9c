import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AgentTypeInfo, ProvisionRequest, ProvisionResult, Subjects } from '@app/contracts';
import { ProvisioningService } from './provisioning.service';

@Controller()
export class ProvisioningHandler {
  constructor(private readonly provisioning: ProvisioningService) {}

  @MessagePattern(Subjects.provisioning.types)
  types(): AgentTypeInfo[] {
    return this.provisioning.types();
  }

  @MessagePattern(Subjects.provisioning.provision)
  provision(@Payload() request: ProvisionRequest): Promise<ProvisionResult> {
    return this.provisioning.provision(request);
  }
}
