import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiClient, apiKeyStore } from './api/client';
import { ApiContext } from './api/context';
import { LiveEventsProvider, useLiveState } from './api/live';
import { Link, navigate, useLocation } from './router';
import { AddAgent } from './views/AddAgent';
import { wizardSession } from './views/wizard-session';
import { AgentDetail } from './views/AgentDetail';
import { Agents } from './views/Agents';
import { Alerts } from './views/Alerts';
import { Audit } from './views/Audit';
import { EnvironmentConfig } from './views/config/EnvironmentConfig';
import { Overview } from './views/Overview';
import { SignIn } from './views/SignIn';
import { Tokens } from './views/Tokens';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/agents', label: 'Agents' },
  { href: '/add-agent', label: 'Add agent' },
  { href: '/tokens', label: 'Tokens' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/config', label: 'Configuration' },
  { href: '/audit', label: 'Audit log' },
];

function Screen({ path }: { path: string }) {
  const agent = /^\/agents\/([^/]+)$/.exec(path);
  if (agent) return <AgentDetail id={decodeURIComponent(agent[1])} />;
  switch (path) {
    case '/':
      return <Overview />;
    case '/agents':
      return <Agents />;
    case '/add-agent':
      return <AddAgent />;
    case '/tokens':
      return <Tokens />;
    case '/alerts':
      return <Alerts />;
    case '/audit':
      return <Audit />;
    case '/config':
      return <EnvironmentConfig />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{path}</code>. <Link href="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}

function LiveIndicator() {
  const state = useLiveState();
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <span className={`live live-${state}`} role="status" title="Live updates from the EVENTS stream">
      {text}
    </span>
  );
}

export function App() {
  const [key, setKey] = useState<string | null>(apiKeyStore.get());
  const [notice, setNotice] = useState<string>();
  const { path } = useLocation();
  // After a client-side navigation, screen readers and keyboard users start at the new content.
  const navigated = useRef(false);
  useEffect(() => {
    if (navigated.current) document.getElementById('main')?.focus();
    navigated.current = true;
  }, [path]);

  const signOut = (reason?: string) => {
    apiKeyStore.clear();
    wizardSession.clear();
    setNotice(reason);
    setKey(null);
  };
  // A key revoked while signed in: the next call's 401 sends the user back with the reason.
  const api = useMemo(
    () => (key ? new ApiClient(key, (error) => signOut(`Signed out: ${error.summary}`)) : null),
    [key],
  );

  if (!key || !api) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(value) => {
          apiKeyStore.set(value);
          setNotice(undefined);
          setKey(value);
        }}
      />
    );
  }

  const active = (href: string) =>
    href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
  return (
    <ApiContext.Provider value={api}>
      <LiveEventsProvider apiKey={key}>
        <a href="#main" className="skip">
          Skip to content
        </a>
        <header className="top">
          <Link href="/" className="brand">
            Agent Connector
          </Link>
          <nav aria-label="Main">
            <ul>
              {NAV.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={active(item.href) ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <LiveIndicator />
          <button
            type="button"
            className="link"
            onClick={() => {
              signOut();
              navigate('/');
            }}
          >
            Sign out
          </button>
        </header>
        <main id="main" tabIndex={-1}>
          <Screen key={path} path={path} />
        </main>
      </LiveEventsProvider>
    </ApiContext.Provider>
  );
}
