import type { AuditEntry } from '../api/types';
import { formatTime } from '../components/common';
import { Link } from '../router';

/** The action filter: every action the platform records, and a prefix per subject. */
export const ACTION_FILTERS: { value: string; label: string }[] = [
  { value: 'agent.*', label: 'All agent actions' },
  { value: 'agent.provisioned', label: 'agent.provisioned' },
  { value: 'agent.enrolled', label: 'agent.enrolled' },
  { value: 'agent.reenrolled', label: 'agent.reenrolled' },
  { value: 'agent.revoked', label: 'agent.revoked' },
  { value: 'agent.labels_changed', label: 'agent.labels_changed' },
  { value: 'agent.reenroll_allowed', label: 'agent.reenroll_allowed' },
  { value: 'agent.deleted', label: 'agent.deleted' },
  { value: 'token.*', label: 'All token actions' },
  { value: 'token.issued', label: 'token.issued' },
  { value: 'environment.*', label: 'All environment actions' },
  { value: 'environment.created', label: 'environment.created' },
  { value: 'fleet.settings_changed', label: 'fleet.settings_changed' },
  { value: 'config.*', label: 'All configuration changes' },
  { value: 'config.environment.saved', label: 'config.environment.saved' },
  { value: 'config.override.saved', label: 'config.override.saved' },
  { value: 'config.override.removed', label: 'config.override.removed' },
];

const ACTOR_KINDS: Record<string, string> = { api_key: 'API key', enrollment_token: 'enrollment token' };

/** "initial key (API key)", the recorded id on hover; the raw actor when the key is gone. */
export function AuditActor({ entry }: { entry: AuditEntry }) {
  if (!entry.actor_name) return <span title={entry.actor}>{entry.actor}</span>;
  return (
    <span title={entry.actor} data-testid="audit-actor">
      {entry.actor_name}
      {entry.actor_kind && ACTOR_KINDS[entry.actor_kind] && (
        <span className="muted"> ({ACTOR_KINDS[entry.actor_kind]})</span>
      )}
    </span>
  );
}

/** The target as a link to where it lives: an agent's page, an environment's agents, a token's list. */
export function AuditTarget({ entry }: { entry: AuditEntry }) {
  const id = entry.target_id;
  const environment = typeof entry.details.environment === 'string' ? entry.details.environment : null;
  const href =
    entry.target_type === 'agent'
      ? `/agents/${encodeURIComponent(id)}`
      : entry.target_type === 'environment'
        ? `/agents?environment=${encodeURIComponent(id)}`
        : entry.target_type === 'token' && environment
          ? `/tokens?environment=${encodeURIComponent(environment)}`
          : null;
  const label = (
    <>
      {entry.target_type} <code>{id}</code>
    </>
  );
  return href ? <Link href={href}>{label}</Link> : label;
}

function detailValue(key: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string' && /_at$/.test(key)) return formatTime(value);
  if (Array.isArray(value)) return value.map((v) => detailValue('', v)).join(', ');
  // A nested object (an agent's config) reads as its fields, not as JSON.
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>);
    return fields.length
      ? fields.map(([k, v]) => `${k.replace(/_/g, ' ')}: ${detailValue(k, v)}`).join('; ')
      : '—';
  }
  return String(value);
}

/** Details as labelled fields rather than raw JSON. */
export function AuditDetails({ details }: { details: Record<string, unknown> }) {
  const entries = Object.entries(details);
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <dl className="audit-details">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key.replace(/_/g, ' ')}</dt>
          <dd>{detailValue(key, value)}</dd>
        </div>
      ))}
    </dl>
  );
}
