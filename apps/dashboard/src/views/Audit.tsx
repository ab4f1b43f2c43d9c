import { useApi, useLoader } from '../api/context';
import type { AuditEntry, Page } from '../api/types';
import { ErrorMessage, formatTime, Loading, Pagination } from '../components/common';
import { setSearch, useLocation } from '../router';
import { ACTION_FILTERS, AuditActor, AuditDetails, AuditTarget } from './audit-entry';

const PAGE_SIZE = 50;

/** Who did what: provisioning's audit log, newest first, filtered and paged by the server. */
export function Audit() {
  const api = useApi();
  const { search } = useLocation();
  const action = search.get('action') ?? '';
  const agentId = search.get('agent_id') ?? '';
  const offset = Math.max(0, Number(search.get('offset') ?? 0) || 0);
  const page = useLoader(
    (signal) =>
      api.get<Page<AuditEntry>>(
        '/api/v1/audit',
        { action, agent_id: agentId, limit: PAGE_SIZE, offset },
        signal,
      ),
    [action, agentId, offset],
  );

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form
        className="filters"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={(e) => e.preventDefault()}
      >
        <label>
          Action
          <select value={action} onChange={(e) => setSearch({ action: e.target.value, agent_id: agentId })}>
            <option value="">All actions</option>
            {action && !ACTION_FILTERS.some((f) => f.value === action) && (
              <option value={action}>{action}</option>
            )}
            {ACTION_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent id
          <input
            defaultValue={agentId}
            onBlur={(e) => setSearch({ action, agent_id: e.target.value })}
            onKeyDown={(e) => e.key === 'Enter' && setSearch({ action, agent_id: e.currentTarget.value })}
          />
        </label>
      </form>
      <ErrorMessage error={page.error} title="Could not load the audit log." />
      {page.loading && !page.data && <Loading what="the audit log" />}
      {page.data && (
        <>
          <table aria-busy={page.loading}>
            <caption className="visually-hidden">Audit entries</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted">
                    Nothing recorded.
                  </td>
                </tr>
              )}
              {page.data.items.map((entry) => (
                <tr key={entry.id} data-action={entry.action}>
                  <td>{formatTime(entry.at)}</td>
                  <td>
                    <AuditActor entry={entry} />
                  </td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td>
                    <AuditTarget entry={entry} />
                  </td>
                  <td>
                    <AuditDetails details={entry.details} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pagination
            label="Audit log"
            total={page.data.total}
            limit={PAGE_SIZE}
            offset={offset}
            onChange={(next) => setSearch({ action, agent_id: agentId, offset: next || undefined })}
          />
        </>
      )}
    </section>
  );
}
