import { randomUUID } from 'node:crypto';
import { INestMicroservice } from '@nestjs/common';
import {
  Alert,
  AlertRule,
  AlertRuleInput,
  CreatedAlertChannel,
  DomainError,
  ErrorCodes,
  EventKinds,
  Page,
  Subjects,
} from '@app/contracts';
import {
  createTestDatabase,
  NatsServerHandle,
  startNatsServer,
  TestDatabase,
  testEngines,
  waitFor,
} from '@app/testing';
import { fewTicks, ManualClock, Platform, startAlerting, WebhookReceiver } from './alerting-harness';

/** Rules on ingestion's health events: `agent_degraded` and `agent_stopped`. */
describe.each(testEngines())('alerts on agent health (%s)', (engine) => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let clock: ManualClock;
  let app: INestMicroservice;
  let platform: Platform;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase(engine, 'alerting');
    clock = new ManualClock();
    app = await startAlerting(nats.url, db, clock);
    platform = await Platform.connect(nats.url);
  });

  afterAll(async () => {
    await platform?.close();
    await app?.close();
    await Promise.all(receivers.map((r) => r.stop()));
    await db?.cleanup();
    await nats?.dispose();
  });

  async function organisation(rule: Omit<AlertRuleInput, 'name' | 'channel_ids'>) {
    const organizationId = `org-${randomUUID()}`;
    const receiver = new WebhookReceiver();
    receivers.push(receiver);
    const channel = await platform.rpc.request<CreatedAlertChannel>(Subjects.alerts.createChannel, {
      organizationId,
      channel: { name: 'on-call', type: 'webhook', url: await receiver.start() },
    });
    await platform.rpc.request<AlertRule>(Subjects.alerts.createRule, {
      organizationId,
      rule: { name: 'health watch', channel_ids: [channel.id], ...rule },
    });
    return { organizationId, receiver };
  }
  const alerts = (organizationId: string) =>
    platform.rpc.request<Page<Alert>>(Subjects.alerts.list, { organizationId, query: {} });
  const bodyOf = (receiver: WebhookReceiver, i: number) => JSON.parse(receiver.requests[i].rawBody);

  it('a degraded agent fires at once with its reasons, and its recovery resolves the alert', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_degraded' });
    await platform.publish(EventKinds.agentDegraded, organizationId, 'agent-d', clock.iso(), {
      lastSeenAt: clock.now(),
      reasons: [
        {
          kind: 'collector_errors',
          component: 'collector:containers',
          message: 'containers: connect ENOENT',
        },
        { kind: 'clock_skew', component: 'clock', message: 'agent clock 45.0 s behind (more than 30 s)' },
      ],
    });
    await waitFor('the firing webhook', () => receiver.requests.length === 1);
    expect(bodyOf(receiver, 0)).toMatchObject({
      transition: 'firing',
      alert: {
        kind: 'agent_degraded',
        agent_id: 'agent-d',
        summary:
          'agent agent-d degraded: containers: connect ENOENT; agent clock 45.0 s behind (more than 30 s)',
      },
    });

    clock.advance(10_000);
    await platform.publish(EventKinds.agentRecovered, organizationId, 'agent-d', clock.iso(), {
      lastSeenAt: clock.now(),
    });
    await waitFor('the resolved webhook', () => receiver.requests.length === 2);
    expect(bodyOf(receiver, 1)).toMatchObject({ transition: 'resolved', alert: { state: 'resolved' } });
  });

  it('a degraded agent that stays degraded is alerted once, however many times it is announced', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_degraded' });
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      await platform.publish(EventKinds.agentDegraded, organizationId, 'agent-e', clock.iso(), {
        lastSeenAt: clock.now(),
        reasons: [],
      });
    }
    await waitFor('the firing webhook', () => receiver.requests.length === 1);
    await fewTicks();
    expect((await alerts(organizationId)).total).toBe(1);
    expect(receiver.requests).toHaveLength(1);
  });

  it('a cleanly stopped agent fires an agent_stopped alert, resolved when it runs again', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_stopped' });
    await platform.publish(EventKinds.agentStopped, organizationId, 'agent-s', clock.iso(), {
      lastSeenAt: clock.now(),
    });
    await waitFor('the firing webhook', () => receiver.requests.length === 1);
    expect(bodyOf(receiver, 0)).toMatchObject({ alert: { kind: 'agent_stopped', agent_id: 'agent-s' } });
    clock.advance(60_000);
    await platform.publish(EventKinds.agentOnline, organizationId, 'agent-s', clock.iso(), {
      lastSeenAt: clock.now(),
    });
    await waitFor('the resolved webhook', () => receiver.requests.length === 2);
    expect(bodyOf(receiver, 1)).toMatchObject({ transition: 'resolved' });
  });

  it('a stopped-agent rule refuses an offline delay, naming the field', async () => {
    const organizationId = `org-${randomUUID()}`;
    const refused = await platform.rpc
      .request(Subjects.alerts.createRule, {
        organizationId,
        rule: { name: 'x', kind: 'agent_stopped', offline_seconds: 60, channel_ids: ['c1'] },
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(JSON.stringify(refused)).toContain('offline_seconds');
  });
});
