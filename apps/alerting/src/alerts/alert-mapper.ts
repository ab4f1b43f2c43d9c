import { Alert } from '@app/contracts';
import { AlertRow } from '../database';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    organizationId: row.organization_id,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    kind: row.kind,
    state: row.state,
    agentId: row.agent_id,
    environment: row.environment,
    summary: row.summary,
    openedAt: new Date(row.opened_at).toISOString(),
    firedAt: iso(row.fired_at),
    resolvedAt: iso(row.resolved_at),
    acknowledgedAt: iso(row.acknowledged_at ?? null),
    acknowledgedBy: row.acknowledged_by ?? null,
  };
}
