import { AlertRuleKind, FieldError } from '@app/contracts';

export interface RuleParameters {
  kind: AlertRuleKind;
  label: string | null;
  offline_seconds: number | null;
  threshold: number | null;
  window_seconds: number | null;
}

/**
 * Which parameters each kind needs and which it cannot use. Checked on the merged rule, so an
 * update that sets `threshold` on an offline rule is refused like a create would be.
 */
export function checkRuleParameters(rule: RuleParameters): FieldError[] {
  const errors: FieldError[] = [];
  const required = (field: keyof RuleParameters) =>
    rule[field] === null && errors.push({ field, reason: `${field} is required for ${rule.kind} rules` });
  const forbidden = (field: keyof RuleParameters) =>
    rule[field] !== null && errors.push({ field, reason: `${field} does not apply to ${rule.kind} rules` });
  switch (rule.kind) {
    case 'agent_offline':
      required('offline_seconds');
      forbidden('threshold');
      forbidden('window_seconds');
      break;
    case 'agent_revoked':
    case 'agent_degraded':
    case 'agent_stopped':
      forbidden('offline_seconds');
      forbidden('threshold');
      forbidden('window_seconds');
      break;
    case 'enrollment_failures':
      required('threshold');
      required('window_seconds');
      forbidden('offline_seconds');
      // A failed enrollment has no agent yet, so it has no labels to match.
      forbidden('label');
      break;
  }
  return errors;
}
