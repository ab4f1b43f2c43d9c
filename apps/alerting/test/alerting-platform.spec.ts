import { INestMicroservice } from '@nestjs/common';
import request from 'supertest';
import { EnrollReply, EnrollRequest, Headers, Subjects } from '@app/contracts';
import { createTestDatabase, TestAgentKey, TestDatabase, testEngines, waitFor } from '@app/testing';
import { Platform, startPlatform } from '../../provisioning/test/platform';
import { fewTicks, ManualClock, startAlerting, WebhookReceiver } from './alerting-harness';

/**
 * Alerting beside the real tokens, provisioning, ingestion and gateway: rules and channels made
 * over HTTP, agents enrolled and revoked the way users do it, the agent.revoked event coming
 * from provisioning, and a rule scoped by type and label resolved through the fleet registry.
 */
describe.each(testEngines())('alerting with the platform (%s)', (engine) => {
  let platform: Platform;
  let alertingDb: TestDatabase;
  let alerting: INestMicroservice;
  let api: ReturnType<typeof request.agent>;
  let key: string;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    platform = await startPlatform(engine);
    alertingDb = await createTestDatabase(engine, 'alerting');
    alerting = await startAlerting(
      platform.nats.url,
      alertingDb,
      new ManualClock(Date.now()),
      platform.nats.bus,
    );
    api = request.agent(platform.baseUrl);
    key = (await platform.createOrganization('alerting-e2e')).apiKey.secret;
  });

  afterAll(async () => {
    await alerting?.close();
    await receiver.stop();
    await platform?.stop();
    await alertingDb?.cleanup();
  });

  const enroll = (token: string, hostId: string, labels: Record<string, string>) =>
    platform.rpc.request<EnrollReply, EnrollRequest>(
      Subjects.enroll,
      {
        agentType: 'server',
        agentVersion: '0.1.0',
        host: { hostname: hostId, hostId, os: 'linux' },
        labels,
        identity: new TestAgentKey().claim(hostId),
      },
      { headers: { [Headers.enrollmentToken]: token } },
    );

  it('a rule scoped by type and label notifies for the matching revoked agent only', async () => {
    const auth = { authorization: `Bearer ${key}` };
    const channel = await api
      .post('/api/v1/alerts/channels')
      .set(auth)
      .send({ name: 'ops', type: 'webhook', url: await receiver.start() })
      .expect(201);
    await api
      .post('/api/v1/alerts/rules')
      .set(auth)
      .send({
        name: 'payments agent revoked',
        kind: 'agent_revoked',
        agent_type: 'server',
        label: 'team=payments',
        channel_ids: [channel.body.id],
      })
      .expect(201);

    const provisioned = await api
      .post('/api/v1/agent/provision')
      .set(auth)
      .send({ agent_type: 'server', environment_name: 'prod-1' })
      .expect(201);
    const payments = await enroll(provisioned.body.enrollment_token, 'pay-1', { team: 'payments' });
    const search = await enroll(provisioned.body.enrollment_token, 'search-1', { team: 'search' });

    await api.delete(`/api/v1/agents/${search.agentId}`).set(auth).expect(200);
    await api.delete(`/api/v1/agents/${payments.agentId}`).set(auth).expect(200);

    await waitFor('the webhook', () => receiver.requests.length === 1);
    await fewTicks();
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0].rawBody).alert).toMatchObject({
      agent_id: payments.agentId,
      environment: 'prod-1',
      rule_name: 'payments agent revoked',
    });
    const alerts = await api.get('/api/v1/alerts').set(auth).expect(200);
    expect(alerts.body.items.map((a: { agent_id: string }) => a.agent_id)).toEqual([payments.agentId]);
  });
});
