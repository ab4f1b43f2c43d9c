import type { Agent } from '../api/types';
import { Ago } from '../components/common';

/**
 * The agent's application-metrics sources (scrape targets, exec and in-process plugins, StatsD) and
 * how each one's last run went, from its last heartbeat.
 */
export function AppMetricsSourcesPanel({ agent }: { agent: Agent }) {
  const sources = agent.health?.sources ?? [];
  return (
    <section className="panel" aria-labelledby="sources-title">
      <h2 id="sources-title">Application metrics sources</h2>
      {sources.length === 0 ? (
        <p className="muted">
          No scrape targets or plugins reported. Configure them in the environment&apos;s configuration
          (app_metrics) or the agent&apos;s settings.
        </p>
      ) : (
        <table aria-label="Sources">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">State</th>
              <th scope="col">Series</th>
              <th scope="col">Last run</th>
              <th scope="col">Duration</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {sources.map((s) => (
              <tr key={s.name} data-source={s.name} className={s.up ? undefined : 'component-bad'}>
                <td>
                  <code>{s.name}</code>
                </td>
                <td data-testid="source-state">{s.up ? 'up' : 'down'}</td>
                <td data-testid="source-series">{s.series}</td>
                <td>
                  <Ago iso={new Date(s.last_run_at).toISOString()} />
                </td>
                <td>{Math.round(s.last_duration_ms)} ms</td>
                <td data-testid="source-error">{s.last_error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
