import type { Agent } from '../api/types';
import { Ago } from '../components/common';

/** Why an agent is degraded and how each of its parts is doing, from its last heartbeat. */
export function AgentHealthPanel({ agent }: { agent: Agent }) {
  const health = agent.health;
  return (
    <section className="panel" aria-labelledby="health-title">
      <h2 id="health-title">Health</h2>
      {!health ? (
        <p className="muted">No heartbeat yet.</p>
      ) : (
        <>
          {health.reasons.length > 0 ? (
            <ul className="health-reasons" aria-label="Degraded because">
              {health.reasons.map((reason) => (
                <li key={`${reason.component}:${reason.message}`}>
                  <code>{reason.kind}</code> {reason.message}
                </li>
              ))}
            </ul>
          ) : (
            <p>Every component reports well.</p>
          )}
          <table aria-label="Components">
            <thead>
              <tr>
                <th scope="col">Component</th>
                <th scope="col">State</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {health.components.map((c) => (
                <tr key={c.component} className={c.ok ? undefined : 'component-bad'}>
                  <td>
                    <code>{c.component}</code>
                  </td>
                  <td>{c.ok ? 'ok' : 'failing'}</td>
                  <td>{c.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {health.reported_at !== null && (
            <p className="muted">
              Reported <Ago iso={new Date(health.reported_at).toISOString()} />
              {health.version ? ` by version ${health.version}` : ''}.
            </p>
          )}
        </>
      )}
    </section>
  );
}
