import { useApi, useLoader } from '../api/context';
import { itemsOf } from '../api/client';
import type { AgentType, Environment } from '../api/types';

/** The agent types and their schemas; changes only with a deployment, so one load per view is plenty. */
export function useAgentTypes() {
  const api = useApi();
  return useLoader(
    async (signal) =>
      itemsOf(await api.get<AgentType[] | { items: AgentType[] }>('/api/v1/agent/types', undefined, signal)),
    [],
  );
}

/** The organisation's environment names, for pickers. */
export function useEnvironmentNames() {
  const api = useApi();
  return useLoader(
    async (signal) =>
      itemsOf(
        await api.get<Environment[] | { items: Environment[] }>('/api/v1/environments', undefined, signal),
      ).map((e) => e.name),
    [],
  );
}
