import { LabelChanges, labelErrors, MAX_AGENT_LABELS, ValidationFailedError } from '@app/contracts';

/**
 * The labels after `changes` (`remove` first, then `set`), checked like enrollment's; `field` names
 * the changes in an error (`set.team`, or `labels.set.team` in a bulk request).
 */
export function applyLabelChanges(
  current: Record<string, string>,
  changes: LabelChanges,
  field: string,
): Record<string, string> {
  const prefix = field ? `${field}.` : '';
  if (!changes.set && !changes.remove) {
    throw new ValidationFailedError([
      { field: field || '(body)', reason: 'must have set or remove (or both)' },
    ]);
  }
  const errors = labelErrors(changes.set ?? {}, `${prefix}set`);
  if (errors.length) throw new ValidationFailedError(errors);
  // A Map, not object assignment: a `__proto__` key is a valid label key and must stay a plain entry.
  const merged = new Map(Object.entries(current));
  for (const key of changes.remove ?? []) merged.delete(key);
  for (const [key, value] of Object.entries(changes.set ?? {})) merged.set(key, value);
  const next = Object.fromEntries(merged);
  if (merged.size > MAX_AGENT_LABELS) {
    throw new ValidationFailedError([
      { field: `${prefix}set`, reason: `an agent has at most ${MAX_AGENT_LABELS} labels` },
    ]);
  }
  return next;
}

/** Same keys with the same values (key order aside). */
export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}
