import { useState } from 'react';
import { useApi } from '../../api/context';
import { ConfirmDialog, ErrorMessage, formatNumber } from '../../components/common';

/** The agents list's filters a bulk action takes (sorting and paging do not select anything). */
const FILTER_KEYS = ['environment', 'status', 'type', 'label', 'search'] as const;

const agents = (n: number) => `${formatNumber(n)} agent${n === 1 ? '' : 's'}`;

interface BulkResult {
  matched: number;
  sample_ids: string[];
  done: number;
  failed: number;
}

/**
 * "Revoke all matching": a dry run of `POST /api/v1/agents/bulk` counts what the filters select,
 * the dialog says how many (and which, for a few), and only the confirmation revokes them.
 */
export function BulkRevoke({ filters, onDone }: { filters: Record<string, string>; onDone(): void }) {
  const api = useApi();
  const filter = Object.fromEntries(FILTER_KEYS.filter((k) => filters[k]).map((k) => [k, filters[k]]));
  const [preview, setPreview] = useState<BulkResult | null>(null);
  const [result, setResult] = useState<BulkResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (dryRun: boolean) => {
    setBusy(true);
    try {
      const answer = await api.post<BulkResult>('/api/v1/agents/bulk', {
        action: 'revoke',
        filter,
        dry_run: dryRun,
      });
      setError(null);
      if (dryRun) {
        setPreview(answer);
      } else {
        setPreview(null);
        setResult(answer);
        onDone();
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" className="danger" disabled={busy} onClick={() => void run(true)}>
        Revoke all matching…
      </button>
      {result && (
        <p className="notice" role="status" data-testid="bulk-result">
          Revoked {formatNumber(result.done)} of {agents(result.matched)}
          {result.failed > 0 ? `; ${formatNumber(result.failed)} failed` : ''}.
        </p>
      )}
      {!preview && <ErrorMessage error={error} title="Bulk revoke failed." />}
      <ConfirmDialog
        open={preview !== null}
        title="Revoke every matching agent?"
        confirmLabel={`Revoke ${agents(preview?.matched ?? 0)}`}
        busy={busy || preview?.matched === 0}
        onConfirm={() => void run(false)}
        onCancel={() => {
          setPreview(null);
          setError(null);
        }}
      >
        <p data-testid="bulk-count">
          {formatNumber(preview?.matched ?? 0)} agent{preview?.matched === 1 ? '' : 's'} match the current
          filters{Object.keys(filter).length === 0 ? ' (no filter: the whole fleet)' : ''}. Each loses its
          credential and stops; this cannot be undone.
        </p>
        {preview && preview.sample_ids.length > 0 && (
          <p className="muted">
            {preview.sample_ids.slice(0, 5).join(', ')}
            {preview.matched > 5 ? ', …' : ''}
          </p>
        )}
        <ErrorMessage error={error} />
      </ConfirmDialog>
    </>
  );
}
