import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AgentConfigRefRequest,
  AgentConfigStatusesReply,
  AgentConfigStatusesRequest,
  AgentConfigView,
  ConfigVersionRecord,
  EnvironmentConfigRequest,
  EnvironmentConfigView,
  SaveAgentOverrideRequest,
  SaveEnvironmentConfigRequest,
  Subjects,
} from '@app/contracts';
import { ConfigsService } from './configs.service';

const S = Subjects.fleet.configs;

/** `fleet.configs.*`: remote configuration as the gateway's routes use it. */
@Controller()
export class ConfigsHandler {
  constructor(private readonly configs: ConfigsService) {}

  @MessagePattern(S.environmentGet)
  environment(@Payload() request: EnvironmentConfigRequest): Promise<EnvironmentConfigView> {
    return this.configs.environmentConfig(request.organizationId, request.environment);
  }

  @MessagePattern(S.environmentSave)
  saveEnvironment(@Payload() request: SaveEnvironmentConfigRequest): Promise<ConfigVersionRecord> {
    return this.configs.saveEnvironmentConfig(
      request.organizationId,
      request.environment,
      request.settings,
      request.actor,
    );
  }

  @MessagePattern(S.agentGet)
  agent(@Payload() request: AgentConfigRefRequest): Promise<AgentConfigView> {
    return this.configs.agentConfig(request.organizationId, request.agentId);
  }

  @MessagePattern(S.agentSave)
  saveOverride(@Payload() request: SaveAgentOverrideRequest): Promise<AgentConfigView> {
    return this.configs.saveOverride(
      request.organizationId,
      request.agentId,
      request.settings ?? null,
      request.actor,
    );
  }

  @MessagePattern(S.statuses)
  async statuses(@Payload() request: AgentConfigStatusesRequest): Promise<AgentConfigStatusesReply> {
    return { statuses: await this.configs.statuses(request.organizationId, request.agentIds) };
  }
}
