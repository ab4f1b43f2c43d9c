import { Injectable } from '@nestjs/common';
import {
  AgentConfigRefRequest,
  AgentConfigSettings,
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
import { RpcClient } from '@app/messaging';

const S = Subjects.fleet.configs;

/** Provisioning's remote configuration, as the gateway's routes use it. */
@Injectable()
export class ConfigsClient {
  constructor(private readonly rpc: RpcClient) {}

  environment(organizationId: string, environment: string): Promise<EnvironmentConfigView> {
    return this.rpc.request<EnvironmentConfigView, EnvironmentConfigRequest>(S.environmentGet, {
      organizationId,
      environment,
    });
  }

  saveEnvironment(
    organizationId: string,
    environment: string,
    settings: AgentConfigSettings,
    actor: string,
  ): Promise<ConfigVersionRecord> {
    return this.rpc.request<ConfigVersionRecord, SaveEnvironmentConfigRequest>(S.environmentSave, {
      organizationId,
      environment,
      settings,
      actor,
    });
  }

  agent(organizationId: string, agentId: string): Promise<AgentConfigView> {
    return this.rpc.request<AgentConfigView, AgentConfigRefRequest>(S.agentGet, { organizationId, agentId });
  }

  /** `settings` null removes the override. */
  saveOverride(
    organizationId: string,
    agentId: string,
    settings: AgentConfigSettings | null,
    actor: string,
  ): Promise<AgentConfigView> {
    return this.rpc.request<AgentConfigView, SaveAgentOverrideRequest>(S.agentSave, {
      organizationId,
      agentId,
      ...(settings ? { settings } : {}),
      actor,
    });
  }

  statuses(organizationId: string, agentIds: string[]): Promise<AgentConfigStatusesReply> {
    return this.rpc.request<AgentConfigStatusesReply, AgentConfigStatusesRequest>(S.statuses, {
      organizationId,
      agentIds,
    });
  }
}
