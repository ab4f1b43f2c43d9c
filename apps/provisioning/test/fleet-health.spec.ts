import request from 'supertest';
import { AGENT_VERSION } from '@app/agent-core';
import { EnrollReply, EnrollRequest, Headers, Heartbeat, Subjects } from '@app/contracts';
import { TestAgentKey, testEngines, waitFor } from '@app/testing';
import { Platform, startPlatform } from './platform';

// Response bodies are asserted field by field (toMatchObject, toEqual): their static type adds nothing here.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Fleet health, versions and metric discovery through the HTTP API, with the services running and
 * agents reporting over the signed HTTP intake (what an agent without NATS does).
 */
describe.each(testEngines())('fleet health, versions and metric discovery on %s', (engine) => {
  let platform: Platform;
  let api: request.Agent;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    platform = await startPlatform(engine);
    api = request.agent(platform.baseUrl);
    key = (await platform.createOrganization('health')).apiKey.secret;
    otherKey = (await platform.createOrganization('elsewhere')).apiKey.secret;
  });
  afterAll(() => platform?.stop());

  const get = (path: string, apiKey = key) => api.get(path).set('authorization', `Bearer ${apiKey}`);
  const keys = new Map<string, TestAgentKey>();
  const enrollAgent = async (hostId: string, agentType = 'server', agentVersion = '0.1.0') => {
    const provisioned = await api
      .post('/api/v1/agent/provision')
      .set('authorization', `Bearer ${key}`)
      .send({ agent_type: agentType, environment_name: 'health' })
      .expect(201);
    const agentKey = new TestAgentKey();
    const host = { hostname: `host-${hostId}`, hostId, os: 'linux' };
    const reply = await platform.rpc.request<EnrollReply, EnrollRequest>(
      Subjects.enroll,
      { agentType, agentVersion, host, identity: agentKey.claim(hostId) },
      { headers: { [Headers.enrollmentToken]: provisioned.body.enrollment_token } },
    );
    keys.set(reply.agentId, agentKey);
    return reply.agentId;
  };
  const intake = (agentId: string, route: 'heartbeat' | 'metrics', body: object) => {
    const text = JSON.stringify(body);
    return api
      .post(`/api/v1/intake/${route}`)
      .set(keys.get(agentId)!.signedHeaders(agentId, route, text))
      .send(text)
      .expect(202);
  };
  const heartbeat = (agentId: string, overrides: Partial<Heartbeat> = {}): Heartbeat => ({
    agentId,
    sentAt: Date.now(),
    agentType: 'server',
    agentVersion: '0.1.0',
    uptimeSeconds: 5,
    intervalSeconds: 10,
    state: 'running',
    host: { hostname: 'web-1', hostId: 'h', os: 'linux' },
    lastCollection: { ok: true, at: Date.now(), durationMs: 4, samples: 20, errors: [] },
    buffered: 0,
    dropped: 0,
    bufferFill: 0,
    ...overrides,
  });
  const agentWith = (agentId: string, what: string, check: (agent: Json) => unknown) =>
    waitFor(what, async () => {
      const agent = (await get(`/api/v1/agents/${agentId}`).expect(200)).body as Json;
      return check(agent) ? agent : undefined;
    });

  it('a failing collector shows the agent degraded with the reason, each component, and online again once it works', async () => {
    const agentId = await enrollAgent('degrading');
    await intake(agentId, 'heartbeat', heartbeat(agentId));
    await agentWith(agentId, 'online', (a) => a.status === 'online');
    const failing = {
      ok: false,
      at: Date.now(),
      durationMs: 3,
      samples: 0,
      errors: [{ collector: 'disk', error: 'EACCES: permission denied, statfs /data' }],
    };
    await intake(agentId, 'heartbeat', heartbeat(agentId, { lastCollection: failing, bufferFill: 0.75 }));
    const degraded = await agentWith(agentId, 'degraded', (a) => a.status === 'degraded');
    expect(degraded.health.reasons).toEqual([
      {
        kind: 'collector_errors',
        component: 'collector:disk',
        message: 'disk: EACCES: permission denied, statfs /data',
      },
      { kind: 'buffer_filling', component: 'buffer', message: 'buffer 0 batches waiting, 75% full' },
    ]);
    expect(degraded.health.components).toEqual(
      expect.arrayContaining([
        { component: 'collector:disk', ok: false, detail: 'EACCES: permission denied, statfs /data' },
        {
          component: 'clock',
          ok: true,
          detail: expect.stringMatching(/^agent clock \d+\.\d s (ahead|behind)$/),
        },
      ]),
    );
    expect(((await get('/api/v1/agents?status=degraded').expect(200)).body as Json).items).toHaveLength(1);
    const summary = (await get('/api/v1/fleet/summary').expect(200)).body as Json;
    expect(summary.by_status).toMatchObject({ degraded: 1 });

    await intake(agentId, 'heartbeat', heartbeat(agentId));
    const recovered = await agentWith(agentId, 'online again', (a) => a.status === 'online');
    expect(recovered.health.reasons).toEqual([]);
  });

  it('a stopping heartbeat shows the agent stopped at once', async () => {
    const agentId = await enrollAgent('stopping');
    await intake(agentId, 'heartbeat', heartbeat(agentId));
    await agentWith(agentId, 'online', (a) => a.status === 'online');
    const sent = Date.now();
    await intake(agentId, 'heartbeat', heartbeat(agentId, { state: 'stopping' }));
    await agentWith(agentId, 'stopped', (a) => a.status === 'stopped');
    // Well within one 10 s interval: nobody waits for three missed ones.
    expect(Date.now() - sent).toBeLessThan(5_000);
  });

  it('the version in the heartbeats replaces the enrolled one, and the fleet versions say who is behind and how to upgrade', async () => {
    const agentId = await enrollAgent('old-version', 'server', '0.0.9');
    await intake(agentId, 'heartbeat', heartbeat(agentId, { agentVersion: '0.0.9' }));
    await agentWith(agentId, 'online', (a) => a.status === 'online' && a.version === '0.0.9');
    const versions = (await get('/api/v1/fleet/versions').expect(200)).body as Json;
    expect(versions.current).toBe(AGENT_VERSION);
    expect(versions.versions).toContainEqual({ version: '0.0.9', type: 'server', count: 1, behind: true });
    expect(versions.behind.agents).toContainEqual(
      expect.objectContaining({ id: agentId, version: '0.0.9', hostname: 'host-old-version' }),
    );
    const server = versions.upgrade.find((u: Json) => u.type === 'server');
    expect(server).toMatchObject({ in_place: true });
    expect(server.command).toContain('/install.sh');

    await intake(agentId, 'heartbeat', heartbeat(agentId, { agentVersion: AGENT_VERSION }));
    await agentWith(
      agentId,
      'the new version',
      (a) => a.version === AGENT_VERSION && a.health.version === AGENT_VERSION,
    );
    const after = (await get('/api/v1/fleet/versions').expect(200)).body as Json;
    expect(after.behind.agents.map((a: Json) => a.id)).not.toContain(agentId);
    expect(((await get('/api/v1/fleet/versions', otherKey).expect(200)).body as Json).versions).toEqual([]);
  });

  it('metric discovery lists each metric the agent sent with its unit, tags and newest sample', async () => {
    const agentId = await enrollAgent('discovery');
    const now = Date.now();
    await intake(agentId, 'metrics', {
      agentId,
      seq: 1,
      collectedAt: now,
      samples: [
        { name: 'system.cpu.usage', value: 12, unit: 'percent', ts: now - 1000 },
        { name: 'system.disk.used', value: 100, unit: 'bytes', tags: { mount: '/' }, ts: now - 2000 },
        { name: 'system.disk.used', value: 200, unit: 'bytes', tags: { mount: '/data' }, ts: now },
      ],
    });
    const catalog = await waitFor('the catalog', async () => {
      const res = await get(`/api/v1/agents/${agentId}/metrics`);
      return res.status === 200 && (res.body as Json).metrics.length === 2 && (res.body as Json);
    });
    expect(catalog.metrics).toEqual([
      { name: 'system.cpu.usage', unit: 'percent', tags: {}, last_sample_at: now - 1000 },
      { name: 'system.disk.used', unit: 'bytes', tags: { mount: ['/', '/data'] }, last_sample_at: now },
    ]);
    expect(catalog.truncated).toBe(false);
    const later = (await get(`/api/v1/agents/${agentId}/metrics?from=${now + 60_000}`).expect(200))
      .body as Json;
    expect(later.metrics).toEqual([]);
    await get(`/api/v1/agents/${agentId}/metrics`, otherKey).expect(404);
    const bad = await get(`/api/v1/agents/${agentId}/metrics?from=yesterday`).expect(400);
    expect(JSON.stringify(bad.body)).toContain('from');
  });

  it('an agent never heard has an empty catalog and no health yet', async () => {
    const agentId = await enrollAgent('silent');
    expect(((await get(`/api/v1/agents/${agentId}/metrics`).expect(200)).body as Json).metrics).toEqual([]);
    expect(((await get(`/api/v1/agents/${agentId}`).expect(200)).body as Json).health).toBeNull();
  });
});
