import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AgentRecord,
  AgentRefRequest,
  BulkAgentsRequest,
  BulkAgentsResult,
  ReenrollAllowance,
  Subjects,
  UpdateAgentLabelsRequest,
} from '@app/contracts';
import { AgentLifecycleService } from './agent-lifecycle.service';
import { BulkActionsService } from './bulk-actions.service';

@Controller()
export class LifecycleHandler {
  constructor(
    private readonly lifecycle: AgentLifecycleService,
    private readonly bulk: BulkActionsService,
  ) {}

  @MessagePattern(Subjects.fleet.updateLabels)
  updateLabels(@Payload() request: UpdateAgentLabelsRequest): Promise<AgentRecord> {
    return this.lifecycle.updateLabels(
      request.organizationId,
      request.agentId,
      request.changes,
      request.actor ?? 'system',
    );
  }

  @MessagePattern(Subjects.fleet.delete)
  async delete(@Payload() request: AgentRefRequest): Promise<{ deleted: true }> {
    await this.lifecycle.delete(request.organizationId, request.agentId, request.actor ?? 'system');
    return { deleted: true };
  }

  @MessagePattern(Subjects.fleet.allowReenroll)
  allowReenroll(@Payload() request: AgentRefRequest): Promise<ReenrollAllowance> {
    return this.lifecycle.allowReenroll(request.organizationId, request.agentId, request.actor ?? 'system');
  }

  @MessagePattern(Subjects.fleet.bulk)
  apply(@Payload() request: BulkAgentsRequest): Promise<BulkAgentsResult> {
    return this.bulk.apply(request);
  }
}
