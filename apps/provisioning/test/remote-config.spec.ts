import { connect, jwtAuthenticator, JSONCodec, NatsConnection } from 'nats';
import request from 'supertest';
import {
  AgentConfigDocument,
  AgentControlMessage,
  EnrollReply,
  EnrollRequest,
  Headers,
  inboxPrefix,
  Subjects,
} from '@app/contracts';
import { NatsAgentWire } from '@app/agent-core';
import { TestAgentKey, testEngines, waitFor } from '@app/testing';
import { Platform, startPlatform } from './platform';

// Response bodies are asserted field by field: their static type adds nothing here.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const json = JSONCodec<AgentControlMessage>();

describe.each(testEngines())('remote configuration on %s', (engine) => {
  let platform: Platform;
  let api: request.Agent;
  let admin: string;
  let readOnly: string;
  const opened: NatsConnection[] = [];

  beforeAll(async () => {
    platform = await startPlatform(engine);
    api = request.agent(platform.baseUrl);
    admin = (await platform.createOrganization('acme')).apiKey.secret;
    readOnly = (
      await api
        .post('/api/v1/api-keys')
        .set('authorization', `Bearer ${admin}`)
        .send({ name: 'viewer', scope: 'read' })
        .expect(201)
    ).body.secret as string;
  });
  afterAll(async () => {
    for (const nc of opened) await nc.close().catch(() => undefined);
    await platform?.stop();
  });

  const as = (key: string) => ({
    get: (path: string) => api.get(path).set('authorization', `Bearer ${key}`),
    put: (path: string, body: object) => api.put(path).set('authorization', `Bearer ${key}`).send(body),
    delete: (path: string) => api.delete(path).set('authorization', `Bearer ${key}`),
  });

  /** An enrolled agent connected as its own NATS user, with what arrives on its control subject. */
  const connectAgent = async (environment: string, hostId: string) => {
    const token = (
      await api
        .post('/api/v1/agent/provision')
        .set('authorization', `Bearer ${admin}`)
        .send({ agent_type: 'server', environment_name: environment })
        .expect(201)
    ).body.enrollment_token as string;
    const key = new TestAgentKey();
    const enrolled = await platform.rpc.request<EnrollReply, EnrollRequest>(
      Subjects.enroll,
      {
        agentType: 'server',
        agentVersion: '0.1.0',
        host: { hostname: hostId, hostId, os: 'linux' },
        identity: key.claim(hostId),
      },
      { headers: { [Headers.enrollmentToken]: token } },
    );
    const nc = await connect({
      servers: platform.nats.url,
      authenticator: jwtAuthenticator(enrolled.jwt, key.key.getSeed()),
      tls: { caFile: platform.nats.bus!.caFile },
      inboxPrefix: inboxPrefix(enrolled.agentId),
    });
    opened.push(nc);
    const control: AgentControlMessage[] = [];
    nc.subscribe(Subjects.agentControl(environment, enrolled.agentId), {
      callback: (_, msg) => control.push(json.decode(msg.data)),
    });
    await nc.flush();
    const identity = { agentId: enrolled.agentId, environment };
    const channel = new NatsAgentWire(nc, 5000).configChannel(identity);
    return { id: enrolled.agentId, nc, control, channel, key };
  };

  it('saves every change as a new version, audited with its actor, and shows the history newest first', async () => {
    await connectAgent('hist', 'hist-1');
    const first = await as(admin)
      .put('/api/v1/environments/hist/config', { log_level: 'debug', heartbeat_interval_seconds: 5 })
      .expect(200);
    const second = await as(admin).put('/api/v1/environments/hist/config', { log_level: 'warn' }).expect(200);
    expect([first.body.version, second.body.version]).toEqual([1, 2]);
    expect(second.body.actor).toMatch(/^api_key:/);

    const view = (await as(readOnly).get('/api/v1/environments/hist/config').expect(200)).body as Json;
    expect(view.current).toMatchObject({ version: 2, settings: { log_level: 'warn' } });
    expect(view.history.map((v: Json) => v.version)).toEqual([2, 1]);
    expect(view.history[1].settings).toEqual({ log_level: 'debug', heartbeat_interval_seconds: 5 });

    const audit = (await as(admin).get('/api/v1/audit?action=config.environment.saved').expect(200))
      .body as Json;
    const saved = audit.items.filter((e: Json) => e.target_id === 'hist');
    expect(saved.map((e: Json) => e.details.version).sort()).toEqual([1, 2]);
    expect(saved[0].actor).toBe(second.body.actor);
  });

  it('refuses an invalid config with a 400 naming the field, and a read-only key with a 403', async () => {
    await connectAgent('valid', 'valid-1');
    const bad = async (body: object, field: string) => {
      const res = await as(admin).put('/api/v1/environments/valid/config', body).expect(400);
      expect((res.body as Json).errors.map((e: Json) => e.field)).toContain(field);
    };
    await bad({ heartbeat_interval_seconds: 0 }, 'heartbeat_interval_seconds');
    await bad({ collect_interval_seconds: 3601 }, 'collect_interval_seconds');
    await bad({ log_level: 'loud' }, 'log_level');
    await bad({ collectors: ['CPU!'] }, 'collectors');
    await bad({ labels: { 'bad key': 'x' } }, 'labels.bad key');
    await bad({ heartbeat_interval: 5 }, 'heartbeat_interval');
    await bad({ app_metrics: { scrape_targets: [{ url: 'ftp://x' }] } }, 'app_metrics.scrape_targets[0].url');
    await bad(
      { app_metrics: { exec_plugins: [{ name: 'q', command: [] }] } },
      'app_metrics.exec_plugins[0].command',
    );
    await bad({ app_metrics: { statsd: { address: 'x:1:2' } } }, 'app_metrics.statsd.address');
    await bad({ app_metrics: { carrier_pigeon: {} } }, 'app_metrics.carrier_pigeon');
    await bad({ app_metrics: ['x'] }, 'app_metrics');
    await as(readOnly).put('/api/v1/environments/valid/config', { log_level: 'info' }).expect(403);
    await as(admin).put('/api/v1/environments/nowhere/config', {}).expect(404);
    const view = (await as(admin).get('/api/v1/environments/valid/config').expect(200)).body as Json;
    expect(view).toEqual({ environment: 'valid', current: null, history: [] });
  });

  it('pushes a saved config to the running agent, whose acknowledgement shows it applied', async () => {
    const agent = await connectAgent('push', 'push-1');
    expect((await as(admin).get(`/api/v1/agents/${agent.id}/config`).expect(200)).body.status.state).toBe(
      'none',
    );

    const saved = await as(admin)
      .put('/api/v1/environments/push/config', { heartbeat_interval_seconds: 2, labels: { team: 'a' } })
      .expect(200);
    await waitFor('the push', () => agent.control.some((m) => m.type === 'config'), 5000);
    const pushed = agent.control.find((m) => m.type === 'config')!.config!;
    expect(pushed).toEqual({
      version: saved.body.version,
      settings: { heartbeatIntervalSeconds: 2, labels: { team: 'a' } },
    });
    expect((await as(admin).get(`/api/v1/agents/${agent.id}/config`).expect(200)).body.status).toMatchObject({
      state: 'pending',
      desired_version: saved.body.version,
    });

    await agent.channel.ackConfig({ version: pushed.version, applied: true });
    const view = (await as(readOnly).get(`/api/v1/agents/${agent.id}/config`).expect(200)).body as Json;
    expect(view.status).toMatchObject({ state: 'applied', applied_version: pushed.version, error: null });
    const table = await as(readOnly)
      .get(`/api/v1/config-status?agent_ids=${agent.id},ag_unknown`)
      .expect(200);
    expect(Object.keys(table.body.statuses)).toEqual([agent.id]);
    expect(table.body.statuses[agent.id].state).toBe('applied');
  });

  it('pushes app-metrics sections as saved, an override replacing the environment section by section', async () => {
    const agent = await connectAgent('apps', 'apps-1');
    const scrape = [{ url: 'http://127.0.0.1:9100/metrics', job: 'node' }];
    await as(admin)
      .put('/api/v1/environments/apps/config', {
        app_metrics: { scrape_targets: scrape, statsd: { address: '8125' } },
      })
      .expect(200);
    const override = [{ name: 'queue', command: ['/bin/echo', 'queue depth=1'] }];
    await as(admin)
      .put(`/api/v1/agents/${agent.id}/config`, {
        app_metrics: { statsd: { enabled: false }, exec_plugins: override },
      })
      .expect(200);
    const view = (await as(admin).get(`/api/v1/agents/${agent.id}/config`).expect(200)).body as Json;
    expect(view.effective.settings.app_metrics).toEqual({
      scrape_targets: scrape,
      statsd: { enabled: false },
      exec_plugins: override,
    });
    await waitFor(
      'the override push',
      () => agent.control.filter((m) => m.type === 'config').length >= 2,
      5000,
    );
    expect(agent.control.filter((m) => m.type === 'config').at(-1)!.config!.settings.appMetrics).toEqual(
      view.effective.settings.app_metrics,
    );
  });

  it('gives an agent that missed pushes its current config, override over environment, when it asks', async () => {
    const agent = await connectAgent('fetch', 'fetch-1');
    const other = await connectAgent('fetch', 'fetch-2');
    await as(admin)
      .put('/api/v1/environments/fetch/config', { log_level: 'warn', labels: { team: 'a', tier: 'web' } })
      .expect(200);
    const override = await as(admin)
      .put(`/api/v1/agents/${agent.id}/config`, { log_level: 'debug', labels: { team: 'b' } })
      .expect(200);
    expect(override.body.override.settings).toEqual({ log_level: 'debug', labels: { team: 'b' } });

    const fetched: AgentConfigDocument = await agent.channel.fetchConfig();
    expect(fetched).toEqual({
      version: override.body.effective.version,
      settings: { logLevel: 'debug', labels: { team: 'b', tier: 'web' } },
    });
    // The override is the agent's own: the other agent runs the environment's config.
    expect((await other.channel.fetchConfig()).settings.logLevel).toBe('warn');

    await as(admin).delete(`/api/v1/agents/${agent.id}/config`).expect(200);
    const after = await agent.channel.fetchConfig();
    expect(after.version).toBeGreaterThan(fetched.version);
    expect(after.settings).toEqual({ logLevel: 'warn', labels: { team: 'a', tier: 'web' } });
    await as(admin).delete(`/api/v1/agents/${agent.id}/config`).expect(404);
  });

  it('assigns a config to every agent a bulk filter selects: dry run counts them, each gets it pushed as its override', async () => {
    const agents = [await connectAgent('bulk-config', 'bulk-1'), await connectAgent('bulk-config', 'bulk-2')];
    const bulk = (body: object) =>
      api.post('/api/v1/agents/bulk').set('authorization', `Bearer ${admin}`).send(body);
    const filter = { environment: 'bulk-config' };
    const config = { collect_interval_seconds: 30, labels: { tier: 'gold' } };

    const badLabel = await bulk({ action: 'assign_config', filter, config: { labels: { 'bad key': 'x' } } });
    expect(badLabel.status).toBe(400);
    expect(badLabel.body.errors).toEqual([expect.objectContaining({ field: 'config.labels.bad key' })]);
    expect((await bulk({ action: 'assign_config', filter })).body.errors).toEqual([
      expect.objectContaining({ field: 'config' }),
    ]);

    const dry = await bulk({ action: 'assign_config', filter, config, dry_run: true }).expect(200);
    expect(dry.body).toMatchObject({ matched: 2, done: 0 });
    expect(agents.every((a) => a.control.length === 0)).toBe(true);

    const done = await bulk({ action: 'assign_config', filter, config }).expect(200);
    expect(done.body).toMatchObject({ matched: 2, done: 2, failed: 0 });
    for (const agent of agents) {
      await waitFor(`${agent.id} got its config`, () => agent.control.some((m) => m.type === 'config'), 5000);
      const view = await as(readOnly).get(`/api/v1/agents/${agent.id}/config`).expect(200);
      expect(view.body.override.settings).toEqual(config);
      expect(view.body.override.actor).toMatch(/^api_key:/);
    }
  });

  it('reports a config the agent rejected as failed, with its reason, until a good one is applied', async () => {
    const agent = await connectAgent('reject', 'reject-1');
    const bad = await as(admin)
      .put('/api/v1/environments/reject/config', { collectors: ['gpu'] })
      .expect(200);
    await agent.channel.ackConfig({
      version: bad.body.version,
      applied: false,
      error: 'unknown collector gpu',
    });
    expect((await as(admin).get(`/api/v1/agents/${agent.id}/config`).expect(200)).body.status).toMatchObject({
      state: 'failed',
      failed_version: bad.body.version,
      error: 'unknown collector gpu',
    });
    const good = await as(admin)
      .put('/api/v1/environments/reject/config', { collectors: ['cpu'] })
      .expect(200);
    await agent.channel.ackConfig({ version: good.body.version, applied: true });
    expect((await as(admin).get(`/api/v1/agents/${agent.id}/config`).expect(200)).body.status.state).toBe(
      'applied',
    );
  });

  it("does not let an agent fetch or acknowledge another agent's config", async () => {
    const mine = await connectAgent('iso', 'iso-1');
    const theirs = await connectAgent('iso', 'iso-2');
    const stolen = new NatsAgentWire(mine.nc, 1500).configChannel({ agentId: theirs.id, environment: 'iso' });
    await expect(stolen.fetchConfig()).rejects.toThrow();
    await expect(stolen.ackConfig({ version: 1, applied: true })).rejects.toThrow();
  });

  it('serves an agent on the HTTP transport its config and records its ack through the signed intake', async () => {
    const agent = await connectAgent('http', 'http-1');
    const saved = await as(admin).put('/api/v1/environments/http/config', { log_level: 'error' }).expect(200);
    const intake = (body: object, key = agent.key) => {
      const text = JSON.stringify(body);
      return api
        .post('/api/v1/intake/config')
        .set(key.signedHeaders(agent.id, 'config', text))
        .send(text);
    };
    expect((await intake({ type: 'fetch' }).expect(200)).body).toEqual({
      version: saved.body.version,
      settings: { logLevel: 'error' },
    });
    expect(
      (await intake({ type: 'ack', version: saved.body.version, applied: true }).expect(200)).body,
    ).toEqual({
      recorded: true,
    });
    expect((await as(admin).get(`/api/v1/agents/${agent.id}/config`).expect(200)).body.status.state).toBe(
      'applied',
    );
    // Signed with another key: refused before anything is asked.
    await intake({ type: 'fetch' }, new TestAgentKey()).expect(401);
    expect((await intake({ type: 'nudge' }).expect(400)).body.errors[0].field).toBe('type');
  });
});
