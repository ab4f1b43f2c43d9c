import { ReactNode, useEffect, useId, useRef, useState } from 'react';
import { ApiError, describeError } from '../api/client';
import type { AgentStatus } from '../api/types';

export function StatusBadge({ status }: { status: AgentStatus | string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const fieldErrors = error instanceof ApiError ? error.errors : [];
  return (
    <div className="error" role="alert">
      {title && <strong>{title} </strong>}
      {describeError(error)}
      {fieldErrors.length > 0 && (
        <ul>
          {fieldErrors.map((e) => (
            <li key={`${e.field}:${e.reason}`}>
              <code>{e.field}</code>: {e.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const numberFormat = new Intl.NumberFormat();
export const formatNumber = (n: number) => numberFormat.format(n);

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** "3 min ago" with the exact time on hover. */
export function Ago({ iso }: { iso: string | null | undefined }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => tick((t) => t + 1), 15_000);
    return () => window.clearInterval(timer);
  }, []);
  if (!iso) return <span>—</span>;
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  let text: string;
  if (seconds < 5) text = 'just now';
  else if (seconds < 60) text = `${seconds}s ago`;
  else if (seconds < 3600) text = `${Math.floor(seconds / 60)} min ago`;
  else if (seconds < 86400) text = `${Math.floor(seconds / 3600)} h ago`;
  else text = `${Math.floor(seconds / 86400)} d ago`;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {text}
    </time>
  );
}

export function Pagination({
  total,
  limit,
  offset,
  onChange,
  label,
}: {
  total: number;
  limit: number;
  offset: number;
  onChange(offset: number): void;
  label: string;
}) {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return (
    <nav className="pagination" aria-label={`${label} pages`}>
      <span aria-live="polite">
        {formatNumber(first)}–{formatNumber(last)} of {formatNumber(total)}
      </span>
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        Previous
      </button>
      <button type="button" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button type="button" className="copy" onClick={copy} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy manually' : label}
    </button>
  );
}

/** A modal confirmation on the native <dialog> (focus trapping and Escape come with it). */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // Several dialogs live on one page (rotate and revoke): each is labelled by its own title.
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onCancel} className="dialog">
      <h2 id={titleId}>{title}</h2>
      <div>{children}</div>
      <div className="actions">
        <button type="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/**
 * "Last seen" of an agent. The registry records the last heartbeat at each status change, so
 * for an online agent it is the time it came online; online itself means a heartbeat within
 * the liveness threshold, which is what the reader wants to know.
 */
export function LastSeen({ status, iso }: { status: string; iso: string | null }) {
  if (status === 'online') {
    return <span title={iso ? `online since ${formatTime(iso)}` : undefined}>now</span>;
  }
  return <Ago iso={iso} />;
}
