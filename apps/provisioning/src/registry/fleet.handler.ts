import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AgentCounts,
  AgentRecord,
  AgentRefRequest,
  ListAgentsRequest,
  OrganizationScopedRequest,
  Page,
  Subjects,
} from '@app/contracts';
import { RegistryService } from './registry.service';

@Controller()
export class FleetHandler {
  constructor(private readonly registry: RegistryService) {}

  @MessagePattern(Subjects.fleet.list)
  list(@Payload() request: ListAgentsRequest): Promise<Page<AgentRecord>> {
    return this.registry.list(request);
  }

  @MessagePattern(Subjects.fleet.counts)
  counts(@Payload() request: OrganizationScopedRequest): Promise<AgentCounts> {
    return this.registry.counts(request.organizationId);
  }

  @MessagePattern(Subjects.fleet.get)
  get(@Payload() request: AgentRefRequest): Promise<AgentRecord> {
    return this.registry.get(request.organizationId, request.agentId);
  }

  @MessagePattern(Subjects.fleet.revoke)
  revoke(@Payload() request: AgentRefRequest): Promise<AgentRecord> {
    return this.registry.revoke(request.organizationId, request.agentId, request.actor ?? 'system');
  }
}
