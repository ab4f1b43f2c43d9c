import { resolve } from 'node:path';
import { INestApplication, INestMicroservice } from '@nestjs/common';
import request from 'supertest';
import { connect, NatsConnection } from 'nats';
import { loadConfig } from '@app/config';
import {
  CreatedOrganization,
  CreateOrganizationRequest,
  EventKinds,
  Subjects,
  verifyWebhook,
} from '@app/contracts';
import { EventPublisher, RpcClient } from '@app/messaging';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
import { ManualClock, startAlerting, WebhookReceiver } from '../../../alerting/test/alerting-harness';
import { startTokensHarness, TokensHarness } from '../../../tokens/test/tokens.harness';
import { createGatewayApp } from '../app';
import { GatewayConfig } from '../config';

describe.each(testEngines())('HTTP /api/v1/alerts (%s)', (engine) => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let tokensDb: TestDatabase;
  let tokens: TokensHarness;
  let alerting: INestMicroservice;
  let gateway: INestApplication;
  let nc: NatsConnection;
  let http: ReturnType<typeof request>;
  const receiver = new WebhookReceiver();
  const clock = new ManualClock();
  let keyA: string;
  let keyB: string;
  let orgA: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase(engine, 'alerts_api');
    // Its own database: two services' migrations in one PostgreSQL database collide (see the report).
    tokensDb = await createTestDatabase(engine, 'tokens');
    tokens = await startTokensHarness({ natsUrl: nats.url, env: tokensDb.env });
    alerting = await startAlerting(nats.url, db, clock);
    gateway = await createGatewayApp(
      loadConfig(GatewayConfig, {
        ...db.env,
        NATS_URL: nats.url,
        LOG_LEVEL: 'silent',
        PORT: '0',
        DEPLOY_DIR: resolve(__dirname, '../../../../deploy'),
      }),
    );
    await gateway.listen(0, '127.0.0.1');
    http = request(gateway.getHttpServer());
    nc = await connect({ servers: nats.url });
    const rpc = new RpcClient(nc, 10_000);
    const create = (name: string) =>
      rpc.request<CreatedOrganization, CreateOrganizationRequest>(Subjects.tokens.createOrganization, {
        name,
      });
    const [a, b] = [await create('alerts-a'), await create('alerts-b')];
    keyA = a.apiKey.secret;
    keyB = b.apiKey.secret;
    orgA = a.organization.id;
  });

  afterAll(async () => {
    await nc?.close();
    await gateway?.close();
    await alerting?.close();
    await tokens?.close();
    await receiver.stop();
    await db?.cleanup();
    await tokensDb?.cleanup();
    await nats?.dispose();
  });

  const as = (key: string) => ({ Authorization: `Bearer ${key}` });
  /** The distinct fields a 400 names (one field can fail several constraints). */
  const fieldsOf = (body: { errors: { field: string }[] }) =>
    [...new Set(body.errors.map((e) => e.field))].sort();

  it('refuses a caller without an API key', async () => {
    const res = await http.get('/api/v1/alerts/rules');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it('a bad rule body is a 400 that names the field', async () => {
    const missing = await http
      .post('/api/v1/alerts/rules')
      .set(as(keyA))
      .send({ name: 'offline', kind: 'agent_offline', channel_ids: ['x'] });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ field: 'offline_seconds', reason: 'required' }]);

    const wrong = await http
      .post('/api/v1/alerts/rules')
      .set(as(keyA))
      .send({ name: 'x', kind: 'disk_full', channel_ids: [], severity: 'high' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'channel_ids',
      'kind',
      'severity',
    ]);
  });

  it('refuses a webhook to an internal address with a 400 on the url (SSRF)', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.5/hook',
      'http://[::1]/hook',
    ]) {
      const refused = await http
        .post('/api/v1/alerts/channels')
        .set(as(keyA))
        .send({ name: 'internal', type: 'webhook', url });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([
        { field: 'url', reason: expect.stringMatching(/private, loopback or reserved address/) },
      ]);
    }
    const listed = await http.get('/api/v1/alerts/channels').set(as(keyA));
    expect(listed.body.items.map((c: { name: string }) => c.name)).not.toContain('internal');
  });

  it('creates a channel whose secret is shown once, then a rule using it, in snake_case', async () => {
    const url = await receiver.start();
    const channel = await http
      .post('/api/v1/alerts/channels')
      .set(as(keyA))
      .send({ name: 'ops', type: 'webhook', url });
    expect(channel.status).toBe(201);
    expect(channel.body).toMatchObject({ type: 'webhook', url, organization_id: orgA });
    expect(channel.body.secret).toMatch(/^rca_whs_/);

    const listed = await http.get('/api/v1/alerts/channels').set(as(keyA));
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: channel.body.id, secret_hint: expect.any(String) }),
    ]);
    expect(listed.body.items[0]).not.toHaveProperty('secret');

    const rule = await http
      .post('/api/v1/alerts/rules')
      .set(as(keyA))
      .send({
        name: 'revoked in prod',
        kind: 'agent_revoked',
        environment: 'prod-1',
        channel_ids: [channel.body.id],
      });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({
      kind: 'agent_revoked',
      environment: 'prod-1',
      channel_ids: [channel.body.id],
    });

    const patched = await http
      .patch(`/api/v1/alerts/rules/${rule.body.id}`)
      .set(as(keyA))
      .send({ environment: null, name: 'revoked anywhere' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ environment: null, name: 'revoked anywhere' });

    // The rule works end to end: an event in the organisation reaches the receiver, signed.
    await new EventPublisher(nc).publish({
      kind: EventKinds.agentRevoked,
      organizationId: orgA,
      environment: 'staging',
      agentId: 'agent-h1',
      occurredAt: clock.iso(),
      data: {},
    });
    await waitFor('the webhook', () => receiver.requests.length === 1);
    const { rawBody, headers } = receiver.requests[0];
    expect(
      verifyWebhook(channel.body.secret, String(headers['x-rca-signature']), rawBody, {
        nowSeconds: Math.floor(clock.now() / 1000),
      }),
    ).toMatchObject({ ok: true });
    const log = await waitFor('the delivery log', async () => {
      const res = await http.get('/api/v1/alerts/deliveries').set(as(keyA));
      return res.body.items[0]?.status === 'delivered' && res.body;
    });
    expect(log.items[0]).toMatchObject({
      transition: 'firing',
      attempts: 1,
      log: [{ attempt: 1, status_code: 200 }],
    });
    const alerts = await http.get('/api/v1/alerts?state=firing').set(as(keyA));
    expect(alerts.body).toMatchObject({
      total: 1,
      items: [{ agent_id: 'agent-h1', rule_name: 'revoked anywhere' }],
    });
  });

  it('a firing alert is acknowledged, then resolved by hand, and the channel hears of the resolution', async () => {
    const firing = await http.get('/api/v1/alerts?state=firing').set(as(keyA));
    const alertId: string = firing.body.items[0].id;
    expect((await http.post(`/api/v1/alerts/${alertId}/acknowledge`).set(as(keyB))).status).toBe(404);

    const acknowledged = await http.post(`/api/v1/alerts/${alertId}/acknowledge`).set(as(keyA));
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body).toMatchObject({
      state: 'firing',
      acknowledged_by: expect.stringMatching(/^api_key:/),
      acknowledged_at: expect.any(String),
    });

    const resolved = await http.post(`/api/v1/alerts/${alertId}/resolve`).set(as(keyA));
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ state: 'resolved', resolved_at: expect.any(String) });
    await waitFor('the resolved notification', () => receiver.requests.length === 2);
    expect(JSON.parse(receiver.requests[1].rawBody)).toMatchObject({ transition: 'resolved' });

    const again = await http.post(`/api/v1/alerts/${alertId}/resolve`).set(as(keyA));
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CONFLICT');
  });

  it('a test send reports how it went, a failing channel with its reason; the log filters by channel', async () => {
    const channels = await http.get('/api/v1/alerts/channels').set(as(keyA));
    const working: string = channels.body.items[0].id;
    const ok = await http.post(`/api/v1/alerts/channels/${working}/test`).set(as(keyA));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ delivered: true, status_code: 200, error: null });

    const broken = await http
      .post('/api/v1/alerts/channels')
      .set(as(keyA))
      .send({ name: 'typo', type: 'webhook', url: 'https://no-such-host.invalid/hook' });
    const failed = await http.post(`/api/v1/alerts/channels/${broken.body.id}/test`).set(as(keyA));
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ delivered: false, status_code: null });
    expect(failed.body.error).toMatch(/ENOTFOUND|EAI_AGAIN|not resolve/i);
    expect((await http.post(`/api/v1/alerts/channels/${broken.body.id}/test`).set(as(keyB))).status).toBe(
      404,
    );

    const ofWorking = await http.get(`/api/v1/alerts/deliveries?channel_id=${working}`).set(as(keyA));
    expect(ofWorking.body.total).toBeGreaterThan(0);
    expect(ofWorking.body.items.every((d: { channel_id: string }) => d.channel_id === working)).toBe(true);
    const ofBroken = await http.get(`/api/v1/alerts/deliveries?channel_id=${broken.body.id}`).set(as(keyA));
    expect(ofBroken.body.total).toBe(0);
    await http.delete(`/api/v1/alerts/channels/${broken.body.id}`).set(as(keyA)).expect(204);
  });

  it('lists a Slack channel with its URL masked, and renames or re-points a channel without showing it', async () => {
    const slackUrl = 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';
    const slack = await http
      .post('/api/v1/alerts/channels')
      .set(as(keyA))
      .send({ name: 'slack ops', type: 'slack', url: slackUrl });
    expect(slack.status).toBe(201);
    expect(slack.body.url).toBe(slackUrl);

    const listed = await http.get('/api/v1/alerts/channels').set(as(keyA));
    const shown = listed.body.items.find((c: { id: string }) => c.id === slack.body.id);
    expect(shown.url).toBe('https://hooks.slack.com/…');
    expect(JSON.stringify(listed.body)).not.toContain('XXXXXXXX');
    expect(JSON.stringify(listed.body)).not.toContain(slack.body.secret);

    const moved = await http.patch(`/api/v1/alerts/channels/${slack.body.id}`).set(as(keyA)).send({
      name: 'slack oncall',
      url: 'https://hooks.slack.com/services/T1111/B1111/YYYYYYYYYYYYYYYYYYYY',
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      name: 'slack oncall',
      type: 'slack',
      url: 'https://hooks.slack.com/…',
    });
    expect(moved.body).not.toHaveProperty('secret');

    const bad = await http
      .patch(`/api/v1/alerts/channels/${slack.body.id}`)
      .set(as(keyA))
      .send({ url: 'ftp://example.com', type: 'webhook' });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['type', 'url']);
    const internal = await http
      .patch(`/api/v1/alerts/channels/${slack.body.id}`)
      .set(as(keyA))
      .send({ url: 'http://10.0.0.5/hook' });
    expect(internal.status).toBe(400);
    expect(fieldsOf(internal.body)).toEqual(['url']);
    expect(
      (await http.patch(`/api/v1/alerts/channels/${slack.body.id}`).set(as(keyB)).send({ name: 'x' })).status,
    ).toBe(404);
    await http.delete(`/api/v1/alerts/channels/${slack.body.id}`).set(as(keyA)).expect(204);
  });

  it("another organisation's key sees none of it and cannot change it", async () => {
    const rulesOfA = await http.get('/api/v1/alerts/rules').set(as(keyA));
    const ruleId = rulesOfA.body.items[0].id;
    for (const path of ['/api/v1/alerts/rules', '/api/v1/alerts/channels']) {
      expect((await http.get(path).set(as(keyB))).body.items).toEqual([]);
    }
    expect((await http.get('/api/v1/alerts').set(as(keyB))).body.total).toBe(0);
    expect((await http.get('/api/v1/alerts/deliveries').set(as(keyB))).body.total).toBe(0);
    expect(
      (await http.patch(`/api/v1/alerts/rules/${ruleId}`).set(as(keyB)).send({ enabled: false })).status,
    ).toBe(404);
    expect((await http.delete(`/api/v1/alerts/rules/${ruleId}`).set(as(keyB))).status).toBe(404);
    expect((await http.delete(`/api/v1/alerts/rules/${ruleId}`).set(as(keyA))).status).toBe(204);
    expect((await http.delete(`/api/v1/alerts/rules/${ruleId}`).set(as(keyA))).status).toBe(404);
    expect((await http.delete(`/api/v1/alerts/channels/${'x'.repeat(100)}`).set(as(keyA))).status).toBe(404);
  });

  it('a bad query is a 400 that names the parameter', async () => {
    const res = await http.get('/api/v1/alerts?state=burning&limit=0').set(as(keyA));
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['limit', 'state']);
  });
});
