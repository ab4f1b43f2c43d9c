import { aciAgentType } from './aci/aci-agent-type';
import { AgentTypeDefinition } from './agent-type';
import { AgentTypeRegistry } from './agent-type-registry';
import { cloudRunAgentType } from './cloud-run/cloud-run-agent-type';
import { dockerAgentType } from './docker/docker-agent-type';
import { kubernetesAgentType } from './kubernetes/kubernetes-agent-type';
import { lambdaAgentType } from './lambda/lambda-agent-type';
import { nomadAgentType } from './nomad/nomad-agent-type';
import { serverAgentType } from './server/server-agent-type';
import { sshAgentType } from './ssh/ssh-agent-type';

/** The types this build ships. A new type is a new folder plus one line here. */
export const builtinAgentTypes: AgentTypeDefinition[] = [
  serverAgentType,
  dockerAgentType,
  kubernetesAgentType,
  sshAgentType,
  nomadAgentType,
  aciAgentType,
  lambdaAgentType,
  cloudRunAgentType,
];

export function createBuiltinRegistry(): AgentTypeRegistry {
  const registry = new AgentTypeRegistry();
  for (const definition of builtinAgentTypes) registry.register(definition);
  return registry;
}

/** The registry every consumer uses (provisioning, the agent runtime). */
export const agentTypes = createBuiltinRegistry();
