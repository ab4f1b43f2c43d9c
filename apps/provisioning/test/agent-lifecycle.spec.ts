import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import {
  EnrollReply,
  EnrollRequest,
  EventEnvelope,
  EventKinds,
  Headers,
  LookupAgentsReply,
  Subjects,
} from '@app/contracts';
import { EventPublisher } from '@app/messaging';
import { TestAgentKey, testEngines, waitFor } from '@app/testing';
import { Platform, REPO_ROOT, startPlatform } from './platform';

// Response bodies are asserted field by field (toMatchObject, toEqual): their static type adds nothing here.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DAY_MS = 86_400_000;

/**
 * The agent lifecycle over the HTTP API, against the real services (two provisioning instances on one
 * database, so the cleanup job's compare-and-sets are exercised) and, for re-enrollment, a real agent.
 */
describe.each(testEngines())('agent lifecycle over the HTTP API on %s', (engine) => {
  let platform: Platform;
  let api: request.Agent;
  let admin: string;
  let provisionKey: string;
  let otherOrgKey: string;
  let orgId: string;

  beforeAll(async () => {
    platform = await startPlatform(engine, {
      provisioningInstances: 2,
      provisioningEnv: { INACTIVE_AGENT_CLEANUP_INTERVAL_SECONDS: '0.3', ENROLL_RATE_PER_MINUTE: '60' },
    });
    api = request.agent(platform.baseUrl);
    const org = await platform.createOrganization('acme');
    admin = org.apiKey.secret;
    orgId = org.organization.id;
    otherOrgKey = (await platform.createOrganization('globex')).apiKey.secret;
    const key = await api
      .post('/api/v1/api-keys')
      .set('authorization', `Bearer ${admin}`)
      .send({ name: 'operator', scope: 'provision' })
      .expect(201);
    provisionKey = key.body.secret as string;
  });
  afterAll(() => platform?.stop());

  const call = (method: 'get' | 'post' | 'patch' | 'put' | 'delete', path: string, key = admin) =>
    api[method](path).set('authorization', `Bearer ${key}`);
  const tokenFor = async (environment: string): Promise<string> =>
    (
      await call('post', '/api/v1/agent/provision')
        .send({ agent_type: 'server', environment_name: environment })
        .expect(201)
    ).body.enrollment_token as string;
  const enroll = (token: string, hostId: string, labels: Record<string, string> = {}) => {
    const body: EnrollRequest = {
      agentType: 'server',
      agentVersion: '0.2.0',
      host: { hostname: `host-${hostId}`, hostId, os: 'linux' },
      labels,
      identity: new TestAgentKey().claim(hostId),
    };
    return platform.rpc.request<EnrollReply, EnrollRequest>(Subjects.enroll, body, {
      headers: { [Headers.enrollmentToken]: token },
    });
  };
  const agent = async (id: string) => (await call('get', `/api/v1/agents/${id}`).expect(200)).body as Json;
  const list = async (query: string) =>
    (await call('get', `/api/v1/agents?${query}`).expect(200)).body as Json;
  const audit = async (query: string) =>
    (await call('get', `/api/v1/audit?${query}`).expect(200)).body as Json;
  const identityOf = async (agentId: string) =>
    (await platform.rpc.request<LookupAgentsReply>(Subjects.tokens.agents.lookup, { agentIds: [agentId] }))
      .agents[0];
  /** The next `events.<kind>` published for this agent (subscribed before `act` runs). */
  const nextEvent = async (kind: string, agentId: string, act: () => Promise<unknown>) => {
    const subscription = platform.nc.subscribe(Subjects.event(kind));
    const seen = (async () => {
      for await (const message of subscription) {
        const event = message.json<EventEnvelope>();
        if (event.agentId === agentId) return event;
      }
    })();
    try {
      await act();
      return await Promise.race([
        seen,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${kind}`)), 5000).unref()),
      ]);
    } finally {
      subscription.unsubscribe();
    }
  };
  const liveness = async (
    kind: typeof EventKinds.agentOnline | typeof EventKinds.agentOffline | typeof EventKinds.agentStopped,
    environment: string,
    agentId: string,
    lastSeenAt: number,
  ) => {
    const events = new EventPublisher(await platform.connectAs('ingestion'));
    await events.publish({ kind, organizationId: orgId, environment, agentId, data: { lastSeenAt } });
  };

  describe('labels', () => {
    let agentId: string;
    beforeAll(async () => {
      agentId = (await enroll(await tokenFor('labels'), 'labels-1', { team: 'web', canary: 'yes' })).agentId;
    });

    it('an edit is answered with the new labels and the list filter sees it at once', async () => {
      const event = await nextEvent(EventKinds.agentLabelsChanged, agentId, async () => {
        const res = await call('patch', `/api/v1/agents/${agentId}/labels`, provisionKey)
          .send({ set: { team: 'payments', tier: 'gold' }, remove: ['canary'] })
          .expect(200);
        expect(res.body.labels).toEqual({ team: 'payments', tier: 'gold' });
      });
      expect(event).toMatchObject({
        organizationId: orgId,
        environment: 'labels',
        data: {
          labels: { team: 'payments', tier: 'gold' },
          previous: { labels: { team: 'web', canary: 'yes' } },
        },
      });
      expect((await list('label=tier=gold')).items.map((a: Json) => a.id)).toEqual([agentId]);
      expect((await list('label=team=web')).total).toBe(0);
      expect((await list('label=canary=yes')).total).toBe(0);
      expect((await agent(agentId)).labels).toEqual({ team: 'payments', tier: 'gold' });
    });

    it('each edit is audited with the key that made it; an edit that changes nothing is not', async () => {
      await call('patch', `/api/v1/agents/${agentId}/labels`)
        .send({ set: { team: 'payments' } })
        .expect(200);
      const entries = (await audit(`action=agent.labels_changed&agent_id=${agentId}`)).items as Json[];
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actor: expect.stringMatching(/^api_key:/),
        details: {
          labels: { team: 'payments', tier: 'gold' },
          previous: { labels: { team: 'web', canary: 'yes' } },
        },
      });
    });

    it('keeps label keys exactly as sent, in the answer, the audit details and the event', async () => {
      let answered: Json = {};
      const event = await nextEvent(EventKinds.agentLabelsChanged, agentId, async () => {
        answered = (
          await call('patch', `/api/v1/agents/${agentId}/labels`)
            .send({ set: { costCenter: 'R&D' } })
            .expect(200)
        ).body as Json;
      });
      expect(answered.labels).toMatchObject({ costCenter: 'R&D' });
      expect(event?.data).toMatchObject({ labels: { costCenter: 'R&D' } });
      await call('patch', `/api/v1/agents/${agentId}/labels`)
        .send({ remove: ['costCenter'] })
        .expect(200);
      const [removal] = (await audit(`action=agent.labels_changed&agent_id=${agentId}`)).items as Json[];
      expect(removal.details.previous.labels).toMatchObject({ costCenter: 'R&D' });
      expect((await agent(agentId)).labels).toEqual({ team: 'payments', tier: 'gold' });
    });

    it('a bad label or an empty change is a 400 naming the field, and changes nothing', async () => {
      const bad = await call('patch', `/api/v1/agents/${agentId}/labels`)
        .send({ set: { 'has space': 'x' } })
        .expect(400);
      expect(bad.body.errors).toEqual([{ field: 'set.has space', reason: expect.stringContaining('key') }]);
      const long = await call('patch', `/api/v1/agents/${agentId}/labels`)
        .send({ set: { team: 'x'.repeat(256) } })
        .expect(400);
      expect(long.body.errors[0].field).toBe('set.team');
      const empty = await call('patch', `/api/v1/agents/${agentId}/labels`).send({}).expect(400);
      expect(empty.body.errors[0].field).toBe('(body)');
      const notArray = await call('patch', `/api/v1/agents/${agentId}/labels`)
        .send({ remove: 'team' })
        .expect(400);
      expect(notArray.body.errors[0].field).toBe('remove');
      expect((await agent(agentId)).labels).toEqual({ team: 'payments', tier: 'gold' });
    });

    it("another organisation's agent is not found", async () => {
      await call('patch', `/api/v1/agents/${agentId}/labels`, otherOrgKey)
        .send({ set: { a: 'b' } })
        .expect(404);
    });
  });

  describe('delete', () => {
    it('a live agent cannot be deleted (409); once revoked it is deleted, audited and announced', async () => {
      const { agentId } = await enroll(await tokenFor('delete'), 'delete-1', { team: 'x' });
      const refused = await call('delete', `/api/v1/agents/${agentId}/record`).expect(409);
      expect(refused.body.message).toContain('only a revoked agent');
      await call('delete', `/api/v1/agents/${agentId}`).expect(200);
      const event = await nextEvent(EventKinds.agentDeleted, agentId, () =>
        call('delete', `/api/v1/agents/${agentId}/record`).expect(204),
      );
      expect(event).toMatchObject({
        environment: 'delete',
        data: { reason: 'requested', hostname: 'host-delete-1' },
      });
      await call('get', `/api/v1/agents/${agentId}`).expect(404);
      expect((await list('label=team=x')).total).toBe(0);
      const [entry] = (await audit(`action=agent.deleted&agent_id=${agentId}`)).items as Json[];
      expect(entry).toMatchObject({
        actor: expect.stringMatching(/^api_key:/),
        details: { reason: 'requested' },
      });
      // Its identity stays revoked in the token service: no key of a deleted agent ever works again.
      expect(await identityOf(agentId)).toMatchObject({ revoked: true });
      await call('delete', `/api/v1/agents/${agentId}/record`).expect(404);
    });

    it('needs an admin key: a provision-scoped key may revoke but not delete', async () => {
      const { agentId } = await enroll(await tokenFor('delete'), 'delete-2');
      await call('delete', `/api/v1/agents/${agentId}`, provisionKey).expect(200);
      await call('delete', `/api/v1/agents/${agentId}/record`, provisionKey).expect(403);
      await call('delete', `/api/v1/agents/${agentId}/record`, otherOrgKey).expect(404);
      expect((await agent(agentId)).status).toBe('revoked');
    });
  });

  describe('re-enrollment of a revoked host', () => {
    it('is refused until allowed, then makes a new agent once while the old one stays revoked', async () => {
      const token = await tokenFor('reenroll');
      const first = await enroll(token, 'reenroll-1');
      await call('post', `/api/v1/agents/${first.agentId}/allow-reenroll`).expect(409);
      await call('delete', `/api/v1/agents/${first.agentId}`).expect(200);
      await expect(enroll(token, 'reenroll-1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await call('post', `/api/v1/agents/${first.agentId}/allow-reenroll`, provisionKey).expect(403);

      const allowed = await call('post', `/api/v1/agents/${first.agentId}/allow-reenroll`).expect(200);
      expect(allowed.body).toMatchObject({ agent_id: first.agentId, host_id: 'reenroll-1' });
      const again = await call('post', `/api/v1/agents/${first.agentId}/allow-reenroll`).expect(200);
      expect(again.body.reenroll_allowed_at).toBe(allowed.body.reenroll_allowed_at);

      const second = await enroll(token, 'reenroll-1');
      expect(second.agentId).not.toBe(first.agentId);
      expect(second.reenrolled).toBe(false);
      expect(await agent(second.agentId)).toMatchObject({ status: 'pending', host_id: 'reenroll-1' });
      expect((await agent(first.agentId)).status).toBe('revoked');
      expect(await identityOf(first.agentId)).toMatchObject({ revoked: true });
      const [enrolled] = (await audit(`action=agent.enrolled&agent_id=${second.agentId}`)).items as Json[];
      expect(enrolled.details).toMatchObject({ replaces: first.agentId });
      const [allowance] = (await audit(`action=agent.reenroll_allowed&agent_id=${first.agentId}`))
        .items as Json[];
      expect(allowance.actor).toMatch(/^api_key:/);

      // The allowance was used up: revoking the new agent closes the host again.
      await call('delete', `/api/v1/agents/${second.agentId}`).expect(200);
      await expect(enroll(token, 'reenroll-1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
      // The old record no longer holds the host: allowing it again would admit nothing.
      await call('post', `/api/v1/agents/${first.agentId}/allow-reenroll`).expect(409);
    });

    it('works for a real agent process: refused (exit 77) before the allowance, online as a new agent after', async () => {
      const token = await tokenFor('real-reenroll');
      const runAgent = (stateDir: string) => {
        const child = spawn(
          process.execPath,
          [
            '-r',
            '@swc-node/register',
            'apps/agent/src/main.ts',
            '--token',
            token,
            '--nats-url',
            platform.nats.url,
            '--platform-url',
            platform.baseUrl,
            '--ca-file',
            platform.nats.bus!.caFile,
            '--state-dir',
            stateDir,
            '--heartbeat-interval',
            '1',
          ],
          {
            cwd: REPO_ROOT,
            env: { PATH: process.env.PATH, HOME: process.env.HOME },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        return { child, exited, output: () => output };
      };
      const dirs: string[] = [];
      const freshState = () => {
        const dir = mkdtempSync(join(tmpdir(), 'rca-lifecycle-agent-'));
        dirs.push(dir);
        return dir;
      };
      const onlineIn = (exclude: string[]) =>
        waitFor(
          'an agent online in real-reenroll',
          async () =>
            ((await list('environment=real-reenroll&status=online')).items as Json[]).find(
              (a) => !exclude.includes(a.id as string),
            ),
          60_000,
          200,
        );
      const first = runAgent(freshState());
      const second = { current: undefined as ReturnType<typeof runAgent> | undefined };
      try {
        const old = await onlineIn([]).catch((error: Error) => {
          throw new Error(`${error.message}\n${first.output()}`);
        });
        await call('delete', `/api/v1/agents/${old.id}`).expect(200);
        expect(await first.exited).toBe(78);

        // The same host (same machine id) with a new install: refused while the agent is revoked.
        const refused = runAgent(freshState());
        expect(await refused.exited).toBe(77);
        expect(refused.output()).toContain('allow-reenroll');

        await call('post', `/api/v1/agents/${old.id}/allow-reenroll`).expect(200);
        second.current = runAgent(freshState());
        const renewed = await onlineIn([old.id as string]).catch((error: Error) => {
          throw new Error(`${error.message}\n${second.current!.output()}`);
        });
        expect(renewed.id).not.toBe(old.id);
        expect(renewed.host_id).toBe(old.host_id);
        expect((await agent(old.id as string)).status).toBe('revoked');
      } finally {
        first.child.kill('SIGKILL');
        second.current?.child.kill('SIGKILL');
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('inactive-agent cleanup', () => {
    it('is off by default and refuses a bad setting with a 400 naming it', async () => {
      expect((await call('get', '/api/v1/settings/fleet', provisionKey).expect(200)).body).toEqual({
        inactive_agent_cleanup_days: null,
      });
      for (const body of [{}, { inactive_agent_cleanup_days: 0 }, { inactive_agent_cleanup_days: '3' }]) {
        const res = await call('put', '/api/v1/settings/fleet').send(body).expect(400);
        expect(res.body.errors[0].field).toBe('inactive_agent_cleanup_days');
      }
      await call('put', '/api/v1/settings/fleet', provisionKey)
        .send({ inactive_agent_cleanup_days: 2 })
        .expect(403);
    });

    it('deletes only agents unheard for longer than the setting, only once it is set, each once', async () => {
      const token = await tokenFor('cleanup');
      const now = Date.now();
      const stale = await enroll(token, 'cleanup-stale');
      const recent = await enroll(token, 'cleanup-recent');
      const staleRevoked = await enroll(token, 'cleanup-revoked');
      const online = await enroll(token, 'cleanup-online');
      const staleStopped = await enroll(token, 'cleanup-stopped');
      await liveness(EventKinds.agentOffline, 'cleanup', stale.agentId, now - 3 * DAY_MS);
      // Stopped cleanly and never started again: as inactive as a silent one.
      await liveness(EventKinds.agentStopped, 'cleanup', staleStopped.agentId, now - 4 * DAY_MS);
      await liveness(EventKinds.agentOffline, 'cleanup', recent.agentId, now - DAY_MS);
      await liveness(EventKinds.agentOffline, 'cleanup', staleRevoked.agentId, now - 5 * DAY_MS);
      // Online with an old heartbeat recorded: a live agent is never the cleanup's business.
      await liveness(EventKinds.agentOnline, 'cleanup', online.agentId, now - 10 * DAY_MS);
      await waitFor('liveness applied', async () => (await agent(online.agentId)).status === 'online');
      await waitFor(
        'offline applied',
        async () => (await list('environment=cleanup&status=offline')).total === 3,
      );
      await call('delete', `/api/v1/agents/${staleRevoked.agentId}`).expect(200);

      await waitFor('stopped applied', async () => (await agent(staleStopped.agentId)).status === 'stopped');

      // Several cleanup periods pass with the setting off: nothing goes.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await list('environment=cleanup')).total).toBe(5);

      await call('put', '/api/v1/settings/fleet').send({ inactive_agent_cleanup_days: 2 }).expect(200);
      expect((await call('get', '/api/v1/settings/fleet').expect(200)).body).toEqual({
        inactive_agent_cleanup_days: 2,
      });
      await waitFor(
        'stale agents deleted',
        async () => (await list('environment=cleanup')).total === 2,
        15_000,
      );
      const left = ((await list('environment=cleanup')).items as Json[]).map((a) => a.id).sort();
      expect(left).toEqual([recent.agentId, online.agentId].sort());
      // A few more periods on two instances: still exactly one revocation and one deletion each.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const deleted = (await audit('action=agent.deleted&limit=500')).items as Json[];
      const byCleanup = deleted
        .filter((e) => e.actor === 'system:cleanup')
        .map((e) => e.target_id)
        .sort();
      expect(byCleanup).toEqual([stale.agentId, staleRevoked.agentId, staleStopped.agentId].sort());
      const revocations = (await audit(`action=agent.revoked&agent_id=${stale.agentId}`)).items as Json[];
      expect(revocations).toEqual([expect.objectContaining({ actor: 'system:cleanup' })]);
      expect(await identityOf(stale.agentId)).toMatchObject({ revoked: true });
      const [changed] = (await audit('action=fleet.settings_changed')).items as Json[];
      expect(changed).toMatchObject({
        actor: expect.stringMatching(/^api_key:/),
        // The audit API shows details snake_cased, like every response.
        details: { settings: { inactive_agent_cleanup_days: 2 } },
      });

      await call('put', '/api/v1/settings/fleet').send({ inactive_agent_cleanup_days: 2 }).expect(200);
      expect((await audit('action=fleet.settings_changed')).total).toBe(1);
      await call('put', '/api/v1/settings/fleet').send({ inactive_agent_cleanup_days: null }).expect(200);
      expect((await audit('action=fleet.settings_changed')).total).toBe(2);
    });
  });

  describe('bulk actions', () => {
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      const token = await tokenFor('bulk');
      for (const [host, group] of [
        ['b1', 'a'],
        ['b2', 'a'],
        ['b3', 'a'],
        ['b4', 'b'],
      ]) {
        ids[host] = (await enroll(token, `bulk-${host}`, { group })).agentId;
      }
    });
    const bulk = (body: object, key = admin) => call('post', '/api/v1/agents/bulk', key).send(body);

    it('a dry run counts what the real relabel then changes, and changes nothing itself', async () => {
      const filter = { environment: 'bulk', label: 'group=a' };
      const labels = { set: { tier: 'gold' }, remove: ['group'] };
      const dry = await bulk({ action: 'relabel', filter, labels, dry_run: true }).expect(200);
      expect(dry.body).toMatchObject({ action: 'relabel', dry_run: true, matched: 3, done: 0, failed: 0 });
      expect([...dry.body.sample_ids].sort()).toEqual([ids.b1, ids.b2, ids.b3].sort());
      expect((await list('environment=bulk&label=tier=gold')).total).toBe(0);

      const real = await bulk({ action: 'relabel', filter, labels }, provisionKey).expect(200);
      expect(real.body).toMatchObject({ dry_run: false, matched: 3, done: 3, failed: 0, failures: [] });
      expect((await list('environment=bulk&label=tier=gold')).total).toBe(dry.body.matched);
      expect((await list('environment=bulk&label=group=a')).total).toBe(0);
      expect((await agent(ids.b4)).labels).toEqual({ group: 'b' });
      const entries = (await audit('action=agent.labels_changed&limit=500')).items as Json[];
      expect(
        entries
          .filter((e) => Object.values(ids).includes(e.target_id))
          .map((e) => e.target_id)
          .sort(),
      ).toEqual([ids.b1, ids.b2, ids.b3].sort());
    });

    it('a dry run counts what the real revoke then revokes, each agent audited', async () => {
      const filter = { environment: 'bulk', label: 'tier=gold' };
      const dry = await bulk({ action: 'revoke', filter, dry_run: true }).expect(200);
      expect(dry.body.matched).toBe(3);
      expect((await list('environment=bulk&status=revoked')).total).toBe(0);
      const real = await bulk({ action: 'revoke', filter }).expect(200);
      expect(real.body).toMatchObject({ matched: 3, done: 3, failed: 0 });
      expect((await list('environment=bulk&status=revoked')).total).toBe(dry.body.matched);
      expect((await agent(ids.b4)).status).toBe('pending');
      for (const id of [ids.b1, ids.b2, ids.b3]) {
        const [entry] = (await audit(`action=agent.revoked&agent_id=${id}`)).items as Json[];
        expect(entry.actor).toMatch(/^api_key:/);
      }
    });

    it('refuses a bad action, filter or labels with a 400 naming the field', async () => {
      const fieldOf = async (body: object) => ((await bulk(body).expect(400)).body.errors as Json[])[0].field;
      expect(await fieldOf({ action: 'explode', filter: {} })).toBe('action');
      expect(await fieldOf({ action: 'revoke' })).toBe('filter');
      expect(await fieldOf({ action: 'revoke', filter: { status: 'sleepy' } })).toBe('filter.status');
      expect(await fieldOf({ action: 'relabel', filter: {} })).toBe('labels');
      expect(await fieldOf({ action: 'relabel', filter: {}, labels: { set: { 'a b': 'x' } } })).toBe(
        'labels.set.a b',
      );
      expect(await fieldOf({ action: 'revoke', filter: {}, dry_run: 'yes' })).toBe('dry_run');
      expect((await agent(ids.b4)).status).toBe('pending');
    });

    it('refuses a filter selecting more than 100 agents as a whole, while its dry run still counts them', async () => {
      // Two tokens: each token's enrollment rate is limited per instance.
      const tokens = [await tokenFor('bulk-cap'), await tokenFor('bulk-cap')];
      for (let i = 0; i < 101; i += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, 101 - i) }, (_, j) =>
            enroll(tokens[(i + j) % 2], `cap-${i + j}`),
          ),
        );
      }
      const filter = { environment: 'bulk-cap' };
      const dry = await bulk({ action: 'revoke', filter, dry_run: true }).expect(200);
      expect(dry.body).toMatchObject({ matched: 101, done: 0 });
      expect(dry.body.sample_ids).toHaveLength(20);
      const refused = await bulk({ action: 'revoke', filter }).expect(400);
      expect(refused.body.errors).toEqual([
        { field: 'filter', reason: expect.stringContaining('at most 100 per request') },
      ]);
      expect((await list('environment=bulk-cap&status=revoked')).total).toBe(0);
    });

    it("only touches the caller's organisation", async () => {
      const res = await bulk(
        { action: 'revoke', filter: { environment: 'bulk' }, dry_run: true },
        otherOrgKey,
      ).expect(200);
      expect(res.body).toMatchObject({ matched: 0, sample_ids: [] });
    });
  });
});
