import type { AgentType, ProvisionResult } from '../api/types';

/** What the wizard showed once (the command with its token): kept for the tab's session until dismissed. */
export interface WizardState {
  type: AgentType;
  provisioned: ProvisionResult;
  /** When the command was created (ms): the tracker looks for agents enrolled since. */
  at: number;
}

const KEY = 'agent-connector.wizard';

/**
 * sessionStorage, like the API key: a reload keeps the one-time token (the server will not show it again, and a
 * retry would only orphan another token), closing the tab or signing out forgets it.
 */
export const wizardSession = {
  load(): WizardState | null {
    try {
      const raw = sessionStorage.getItem(KEY);
      const value = raw ? (JSON.parse(raw) as WizardState) : null;
      return value && value.type && value.provisioned && typeof value.at === 'number' ? value : null;
    } catch {
      return null; // unreadable: start the wizard afresh
    }
  },
  save(state: WizardState): void {
    sessionStorage.setItem(KEY, JSON.stringify(state));
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};
