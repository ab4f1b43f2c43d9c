import { FormEvent, useEffect, useState } from 'react';
import { useApi, useLoader } from '../../api/context';
import { Ago, ErrorMessage, Loading } from '../../components/common';
import { setSearch, useLocation } from '../../router';
import { useEnvironmentNames } from '../shared';
import {
  ConfigFormFields,
  ConfigVersion,
  EnvironmentConfig as EnvironmentConfigView,
  formFromSettings,
  LOG_LEVELS,
  settingsFromForm,
} from './config-types';

/**
 * An environment's remote configuration: a small form that saves a new version (pushed to the
 * environment's running agents at once) and the versions saved before, newest first.
 */
export function EnvironmentConfig() {
  const api = useApi();
  const { search } = useLocation();
  const environments = useEnvironmentNames();
  const environment = search.get('environment') || environments.data?.[0] || '';
  const path = `/api/v1/environments/${encodeURIComponent(environment)}/config`;
  const config = useLoader(
    (signal) =>
      environment ? api.get<EnvironmentConfigView>(path, undefined, signal) : Promise.resolve(null),
    [environment],
  );
  const [fields, setFields] = useState<ConfigFormFields>(formFromSettings(null));
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState<ConfigVersion | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setFields(formFromSettings(config.data?.current?.settings)), [config.data]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      setSaved(await api.put<ConfigVersion>(path, settingsFromForm(fields)));
      setSaveError(null);
      config.reload();
    } catch (error) {
      setSaveError(error);
    } finally {
      setBusy(false);
    }
  };
  const field = (name: keyof ConfigFormFields) => ({
    value: fields[name],
    onChange: (e: { target: { value: string } }) => setFields({ ...fields, [name]: e.target.value }),
  });

  return (
    <section aria-labelledby="config-page-title">
      <div className="page-head">
        <h1 id="config-page-title">Configuration</h1>
      </div>
      <p className="muted">
        Saved as a new version and pushed to the environment&apos;s running agents, which apply it without a
        restart. Blank fields keep each agent its own setting. An agent&apos;s own override wins (agent
        detail).
      </p>
      <form className="filters" aria-label="Choose an environment" onSubmit={(e) => e.preventDefault()}>
        <label>
          Environment
          <select value={environment} onChange={(e) => setSearch({ environment: e.target.value })}>
            {(environments.data ?? []).map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
      </form>
      <ErrorMessage error={environments.error ?? config.error} />
      {!config.data && config.loading && <Loading what="configuration" />}
      {environment && config.data && (
        <>
          <form className="filters" aria-label="Environment configuration" onSubmit={save}>
            <label>
              Log level
              <select {...field('log_level')}>
                <option value="">agent&apos;s own</option>
                {LOG_LEVELS.map((level) => (
                  <option key={level}>{level}</option>
                ))}
              </select>
            </label>
            <label>
              Heartbeat interval (s)
              <input type="number" min={1} max={3600} {...field('heartbeat_interval_seconds')} />
            </label>
            <label>
              Collection interval (s)
              <input type="number" min={1} max={3600} {...field('collect_interval_seconds')} />
            </label>
            <label>
              Collectors
              <input placeholder="all; or cpu, memory" {...field('collectors')} />
            </label>
            <label>
              Labels
              <input placeholder="team=payments, tier=web" {...field('labels')} />
            </label>
            <label>
              Application metrics (JSON)
              <textarea
                rows={4}
                cols={60}
                spellCheck={false}
                placeholder='{"scrape_targets": [{"url": "http://127.0.0.1:9100/metrics", "job": "node"}]}'
                {...field('app_metrics')}
              />
            </label>
            <button type="submit" className="primary" disabled={busy}>
              Save new version
            </button>
          </form>
          <ErrorMessage error={saveError} title="Not saved." />
          {saved && !saveError && (
            <p className="notice" role="status">
              Saved version {saved.version}; pushed to the running agents.
            </p>
          )}
          <h2>Versions</h2>
          {config.data.history.length === 0 ? (
            <p className="muted">
              No configuration saved for {environment} yet: agents run their own settings.
            </p>
          ) : (
            <ul className="plain" aria-label="Configuration versions">
              {config.data.history.map((version) => (
                <li key={version.version}>
                  <strong>v{version.version}</strong> <code>{JSON.stringify(version.settings)}</code>{' '}
                  <span className="muted">by {version.actor}</span> · <Ago iso={version.created_at} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
