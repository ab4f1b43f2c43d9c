import { AlertRuleRow } from '../database';

/** What is known about the subject of an event when rules are matched. */
export interface ScopeFacts {
  environment: string | null;
  agentType?: string | null;
  labels?: Record<string, string>;
}

/** Type and label are not on the event; they cost a registry lookup, made only for rules that ask. */
export function needsAgentRecord(rule: Pick<AlertRuleRow, 'agent_type' | 'label'>): boolean {
  return rule.agent_type !== null || rule.label !== null;
}

/** A scope field left empty matches everything; a set one must equal what is known (unknown never matches). */
export function matchesScope(
  rule: Pick<AlertRuleRow, 'environment' | 'agent_type' | 'label'>,
  facts: ScopeFacts,
): boolean {
  if (rule.environment !== null && rule.environment !== facts.environment) return false;
  if (rule.agent_type !== null && rule.agent_type !== facts.agentType) return false;
  if (rule.label !== null) {
    const at = rule.label.indexOf('=');
    const key = rule.label.slice(0, at);
    if (facts.labels?.[key] !== rule.label.slice(at + 1)) return false;
  }
  return true;
}
