import { AgentExitCodes } from '@app/agent-core';
import { EventKinds } from '@app/contracts';
import { testEngines, waitFor } from '@app/testing';
import { EventLog } from './support/event-log';
import { BUILD_TIMEOUT_MS } from './support/launcher';
import { failWithOutputs, startPlatform, TestPlatform, waitForListed } from './support/platform';
import { AgentProcess, Api } from './support/platform-api';

/**
 * An agent's lifecycle as a user drives it: the platform started with `npm start`, real agent processes,
 * only HTTP. Labels edited and filtered on, bulk relabel and revoke with their dry runs, a live agent that
 * cannot be deleted, a revoked host refused until an admin allows it back, then the old record deleted.
 * (The inactive-agent cleanup needs days of silence: apps/provisioning/test/agent-lifecycle.spec.ts
 * covers it with liveness events dated in the past.)
 */

interface AgentJson {
  id: string;
  status: string;
  host_id: string;
  labels: Record<string, string>;
}
interface Page<T> {
  items: T[];
  total: number;
}
interface BulkJson {
  matched: number;
  done: number;
  failed: number;
  dry_run: boolean;
  sample_ids: string[];
}

/** The environment of this suite's agents (the banner's own agent command enrolls in `dev`). */
const ENVIRONMENT = 'lifecycle';

describe.each(testEngines())('agent lifecycle with npm start and real agents (%s)', (engine) => {
  let platform: TestPlatform;
  let events: EventLog;
  let api: Api;
  let token: string;

  /** A fresh install on this host (same machine id, so the same host id) with its own state directory. */
  const install = () => platform.startAgent({ RCA_TOKEN: token, RCA_HEARTBEAT_INTERVAL: '1' });
  const list = async (query: string) => {
    const response = await api<Page<AgentJson>>('GET', `/api/v1/agents?environment=${ENVIRONMENT}&${query}`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const onlineAgent = (exclude: string[], agent: AgentProcess) =>
    waitForListed<AgentJson, AgentJson>(
      api,
      'a new agent online',
      (agents) => agents.find((a) => !exclude.includes(a.id)),
      { query: `environment=${ENVIRONMENT}&status=online`, agent },
    ).catch(failWithOutputs({ agent: () => agent.output() }));
  const bulk = (body: object) => api<BulkJson>('POST', '/api/v1/agents/bulk', body);

  beforeAll(async () => {
    platform = await startPlatform({
      name: 'lifecycle',
      engine,
      events: true,
      env: { HEARTBEAT_INTERVAL_SECONDS: '1', DEFAULT_HEARTBEAT_INTERVAL_SECONDS: '1' },
    });
    api = platform.api;
    events = platform.events!;
    token = await platform.provision('server', ENVIRONMENT);
  }, BUILD_TIMEOUT_MS);

  afterAll(() => platform?.stop());

  let first: AgentJson;
  let second: AgentJson;
  let firstProcess: AgentProcess;

  it('edited labels are answered, listed and filtered on at once, and announced once', async () => {
    firstProcess = install();
    first = await onlineAgent([], firstProcess);
    const edited = await api<AgentJson>('PATCH', `/api/v1/agents/${first.id}/labels`, {
      set: { role: 'db', team: 'payments' },
    });
    expect(edited.status).toBe(200);
    expect(edited.body.labels).toMatchObject({ role: 'db', team: 'payments' });
    expect((await list('label=role%3Ddb')).items.map((a) => a.id)).toEqual([first.id]);
    await waitFor(
      'agent.labels_changed',
      () => events.of(EventKinds.agentLabelsChanged, first.id).length > 0,
    );
    expect(events.of(EventKinds.agentLabelsChanged, first.id)).toHaveLength(1);
    const bad = await api<{ errors: { field: string }[] }>('PATCH', `/api/v1/agents/${first.id}/labels`, {
      set: { 'no spaces': 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('set.no spaces');
  });

  it('a bulk relabel changes exactly as many agents as its dry run counted', async () => {
    second = await onlineAgent([first.id], install());
    const request = {
      action: 'relabel',
      filter: { environment: ENVIRONMENT },
      labels: { set: { tier: 'gold' } },
    };
    const dry = await bulk({ ...request, dry_run: true });
    expect(dry.body).toMatchObject({ dry_run: true, matched: 2, done: 0 });
    expect((await list('label=tier%3Dgold')).total).toBe(0);
    const real = await bulk(request);
    expect(real.body).toMatchObject({ dry_run: false, matched: 2, done: 2, failed: 0 });
    expect((await list('label=tier%3Dgold')).total).toBe(dry.body.matched);
  });

  it('a live agent cannot be deleted; a bulk revoke stops exactly the agents its dry run counted', async () => {
    expect((await api('DELETE', `/api/v1/agents/${first.id}/record`)).status).toBe(409);
    const request = { action: 'revoke', filter: { environment: ENVIRONMENT, label: 'role=db' } };
    const dry = await bulk({ ...request, dry_run: true });
    expect(dry.body).toMatchObject({ matched: 1, sample_ids: [first.id] });
    const real = await bulk(request);
    expect(real.body).toMatchObject({ matched: 1, done: 1, failed: 0 });
    expect(await firstProcess.exited()).toBe(AgentExitCodes.revoked);
    expect((await list('status=revoked')).items.map((a) => a.id)).toEqual([first.id]);
    await waitFor('the other agent still online', async () => (await list('status=online')).total === 1);
  });

  it('the revoked host is refused until an admin allows it, then enrolls once as a new agent', async () => {
    // A fresh install on the same host: the revoked agent holds the host, so the enrollment is refused.
    const refused = install();
    expect(await refused.exited()).toBe(AgentExitCodes.enrollmentRefused);
    expect(refused.output()).toContain('allow-reenroll');

    const allowed = await api('POST', `/api/v1/agents/${first.id}/allow-reenroll`);
    expect(allowed.status).toBe(200);
    const third = await onlineAgent([first.id, second.id], install());
    expect(third.host_id).toBe(first.host_id);
    expect(third.id).not.toBe(first.id);
    const old = await api<AgentJson>('GET', `/api/v1/agents/${first.id}`);
    expect(old.body.status).toBe('revoked');
    const registered = events.of(EventKinds.agentRegistered, third.id);
    expect(registered).toHaveLength(1);
    expect(registered[0].data).toMatchObject({ replaces: first.id });
  });

  it('the revoked agent is deleted once, with an audit entry naming the key', async () => {
    expect((await api('DELETE', `/api/v1/agents/${first.id}/record`)).status).toBe(204);
    expect((await api('GET', `/api/v1/agents/${first.id}`)).status).toBe(404);
    await waitFor('agent.deleted', () => events.of(EventKinds.agentDeleted, first.id).length > 0);
    expect(events.of(EventKinds.agentDeleted, first.id)).toHaveLength(1);
    const audit = await api<{ items: { action: string; actor: string }[] }>(
      'GET',
      `/api/v1/audit?agent_id=${first.id}&action=agent.*`,
    );
    const actions = audit.body.items.map((entry) => `${entry.action} ${entry.actor.split(':')[0]}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'agent.labels_changed api_key',
        'agent.revoked api_key',
        'agent.reenroll_allowed api_key',
        'agent.deleted api_key',
      ]),
    );
  });
});
