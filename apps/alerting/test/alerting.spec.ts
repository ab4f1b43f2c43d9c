import { randomUUID } from 'node:crypto';
import { INestMicroservice } from '@nestjs/common';
import { JSONCodec } from 'nats';
import {
  Alert,
  AlertChannelType,
  AlertDelivery,
  AlertRule,
  AlertRuleInput,
  CreatedAlertChannel,
  DomainError,
  ErrorCodes,
  EventKinds,
  Headers,
  Page,
  Streams,
  Subjects,
  verifyWebhook,
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

const json = JSONCodec<Record<string, unknown>>();

describe.each(testEngines())('alerting service (%s)', (engine) => {
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

  const restart = async () => {
    await app.close();
    app = await startAlerting(nats.url, db, clock);
  };

  /** An organisation with one channel pointing at its own receiver and one rule using it. */
  async function organisation(
    rule: Omit<AlertRuleInput, 'name' | 'channel_ids'>,
    type: AlertChannelType = 'webhook',
  ) {
    const organizationId = `org-${randomUUID()}`;
    const receiver = new WebhookReceiver();
    receivers.push(receiver);
    const url = await receiver.start();
    const channel = await platform.rpc.request<CreatedAlertChannel>(Subjects.alerts.createChannel, {
      organizationId,
      channel: { name: 'on-call', type, url },
    });
    const created = await platform.rpc.request<AlertRule>(Subjects.alerts.createRule, {
      organizationId,
      rule: { name: 'fleet watch', channel_ids: [channel.id], ...rule },
    });
    return { organizationId, receiver, channel, rule: created };
  }

  const alerts = (organizationId: string) =>
    platform.rpc.request<Page<Alert>>(Subjects.alerts.list, { organizationId, query: {} });
  const deliveries = (organizationId: string) =>
    platform.rpc.request<Page<AlertDelivery>>(Subjects.alerts.listDeliveries, { organizationId, query: {} });
  /** The receiver's check (docs/api.md), at the alerting clock's time. */
  const verified = (secret: string, header: string | string[] | undefined, body: string) =>
    verifyWebhook(secret, String(header), body, { nowSeconds: Math.floor(clock.now() / 1000) }).ok;

  it('an agent still offline after N seconds gets exactly one signed webhook, across restarts', async () => {
    const { organizationId, receiver, channel } = await organisation({
      kind: 'agent_offline',
      offline_seconds: 60,
    });
    await platform.publish(EventKinds.agentOffline, organizationId, 'agent-1', clock.iso(), {
      lastSeenAt: clock.now(),
    });
    await waitFor(
      'a pending alert',
      async () => (await alerts(organizationId)).items[0]?.state === 'pending',
    );

    await restart();
    clock.advance(59_000);
    await fewTicks();
    expect(receiver.started).toBe(0);

    clock.advance(2_000);
    await waitFor('the webhook', () => receiver.requests.length === 1);
    const [request] = receiver.requests;
    expect(verified(channel.secret, request.headers['x-rca-signature'], request.rawBody)).toBe(true);
    const body = JSON.parse(request.rawBody);
    expect(body).toMatchObject({
      transition: 'firing',
      alert: { agent_id: 'agent-1', kind: 'agent_offline' },
    });
    await waitFor(
      'the delivery recorded',
      async () => (await deliveries(organizationId)).items[0]?.status === 'delivered',
    );

    await restart();
    clock.advance(3_600_000);
    await fewTicks();
    expect(receiver.started).toBe(1);
    const [delivery] = (await deliveries(organizationId)).items;
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, transition: 'firing' });
    expect(delivery.log).toHaveLength(1);
    expect((await alerts(organizationId)).items[0].state).toBe('firing');
  });

  it('an agent that comes back after its alert fired gets a resolved notification', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_offline', offline_seconds: 30 });
    await platform.publish(EventKinds.agentOffline, organizationId, 'agent-2', clock.iso());
    await waitFor('a pending alert', async () => (await alerts(organizationId)).total === 1);
    clock.advance(31_000);
    await waitFor('the firing webhook', () => receiver.requests.length === 1);

    await platform.publish(EventKinds.agentOnline, organizationId, 'agent-2', clock.iso());
    await waitFor('the resolved webhook', () => receiver.requests.length === 2);
    expect(JSON.parse(receiver.requests[1].rawBody)).toMatchObject({
      transition: 'resolved',
      alert: { state: 'resolved' },
    });
  });

  it('a flapping agent (back online within N) is never notified', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_offline', offline_seconds: 60 });
    for (let flap = 0; flap < 3; flap++) {
      await platform.publish(EventKinds.agentOffline, organizationId, 'agent-3', clock.iso());
      clock.advance(10_000);
      await platform.publish(EventKinds.agentOnline, organizationId, 'agent-3', clock.iso());
      clock.advance(5_000);
    }
    await waitFor('three cancelled alerts', async () => {
      const page = await alerts(organizationId);
      return page.total === 3 && page.items.every((a) => a.state === 'cancelled');
    });
    clock.advance(600_000);
    await fewTicks();
    expect(receiver.started).toBe(0);
    expect((await deliveries(organizationId)).total).toBe(0);
  });

  it('a late offline event for an agent already back online opens nothing', async () => {
    const { organizationId } = await organisation({ kind: 'agent_offline', offline_seconds: 60 });
    const wentOffline = clock.iso();
    clock.advance(5_000);
    await platform.publish(EventKinds.agentOnline, organizationId, 'agent-4', clock.iso());
    await platform.publish(EventKinds.agentOffline, organizationId, 'agent-4', wentOffline);
    // A marker event after both proves they were processed.
    await platform.publish(EventKinds.agentOffline, organizationId, 'agent-marker', clock.iso());
    await waitFor('the marker alert', async () =>
      (await alerts(organizationId)).items.some((a) => a.agentId === 'agent-marker'),
    );
    expect((await alerts(organizationId)).items.filter((a) => a.agentId === 'agent-4')).toEqual([]);
  });

  it('a failing receiver is retried with exponential backoff until it accepts', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_revoked' });
    receiver.failNext(500, 503);
    await platform.publish(EventKinds.agentRevoked, organizationId, 'agent-5', clock.iso());

    await waitFor(
      'the first attempt logged',
      async () => (await deliveries(organizationId)).items[0]?.attempts === 1,
    );
    let [delivery] = (await deliveries(organizationId)).items;
    expect(delivery).toMatchObject({ status: 'pending', lastStatusCode: 500 });
    expect(Date.parse(delivery.nextAttemptAt!)).toBe(clock.now() + 1000);

    clock.advance(1000);
    await waitFor(
      'the second attempt logged',
      async () => (await deliveries(organizationId)).items[0]?.attempts === 2,
    );
    [delivery] = (await deliveries(organizationId)).items;
    expect(Date.parse(delivery.nextAttemptAt!)).toBe(clock.now() + 2000);

    clock.advance(1999);
    await fewTicks();
    expect(receiver.started).toBe(2);
    clock.advance(1);
    await waitFor(
      'delivered',
      async () => (await deliveries(organizationId)).items[0]?.status === 'delivered',
    );
    [delivery] = (await deliveries(organizationId)).items;
    expect(delivery.log.map((a) => a.statusCode)).toEqual([500, 503, 200]);
    expect(new Set(receiver.requests.map((r) => r.headers['x-rca-delivery']))).toEqual(
      new Set([delivery.id]),
    );
  });

  it('a receiver that never accepts is given up on after the attempt bound', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_revoked' });
    receiver.failNext(500, 500, 500, 500, 500);
    await platform.publish(EventKinds.agentRevoked, organizationId, 'agent-6', clock.iso());
    await waitFor('failed', async () => {
      clock.advance(10_000);
      return (await deliveries(organizationId)).items[0]?.status === 'failed';
    });
    expect(receiver.requests).toHaveLength(4);
  });

  it('a Slack channel receives the incoming-webhook format, signed too', async () => {
    const { organizationId, receiver, channel } = await organisation({ kind: 'agent_revoked' }, 'slack');
    await platform.publish(EventKinds.agentRevoked, organizationId, 'agent-<7>', clock.iso());
    await waitFor('the Slack message', () => receiver.requests.length === 1);
    const body = JSON.parse(receiver.requests[0].rawBody);
    expect(body.text).toContain('[FIRING] fleet watch: agent agent-<7> was revoked');
    expect(body.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: expect.stringContaining('agent agent-&lt;7&gt; was revoked') },
    });
    expect(
      verified(channel.secret, receiver.requests[0].headers['x-rca-signature'], receiver.requests[0].rawBody),
    ).toBe(true);
  });

  it('a graceful restart in the middle of a delivery neither loses nor repeats it', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_revoked' });
    receiver.delay(500);
    await platform.publish(EventKinds.agentRevoked, organizationId, 'agent-8', clock.iso());
    await waitFor('the POST in flight', () => receiver.started === 1);
    await restart();
    expect(receiver.requests).toHaveLength(1);
    clock.advance(3_600_000);
    await fewTicks();
    expect(receiver.started).toBe(1);
    expect((await deliveries(organizationId)).items[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('enrollment failures above the rate fire once and resolve when the window goes quiet', async () => {
    const { organizationId, receiver } = await organisation({
      kind: 'enrollment_failures',
      threshold: 3,
      window_seconds: 60,
    });
    for (let i = 0; i < 5; i++) {
      await platform.publish(EventKinds.agentEnrollmentFailed, organizationId, null, clock.iso(), {
        reason: 'TOKEN_REVOKED',
      });
      clock.advance(1000);
    }
    await waitFor('the firing webhook', () => receiver.requests.length === 1);
    expect(JSON.parse(receiver.requests[0].rawBody).alert.summary).toMatch(
      /^3 failed enrollments within 60s/,
    );
    clock.advance(60_000);
    await waitFor('the resolved webhook', () => receiver.requests.length === 2);
    expect(JSON.parse(receiver.requests[1].rawBody).transition).toBe('resolved');
    expect((await alerts(organizationId)).total).toBe(1);
  });

  it("another organisation's rules, channels and events are invisible", async () => {
    const a = await organisation({ kind: 'agent_revoked' });
    const b = await organisation({ kind: 'agent_revoked' });
    const rulesOfB = await platform.rpc.request<AlertRule[]>(Subjects.alerts.listRules, {
      organizationId: b.organizationId,
    });
    expect(rulesOfB.map((r) => r.id)).toEqual([b.rule.id]);
    await expect(
      platform.rpc.request(Subjects.alerts.deleteRule, {
        organizationId: b.organizationId,
        ruleId: a.rule.id,
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    const borrowing = platform.rpc.request(Subjects.alerts.createRule, {
      organizationId: b.organizationId,
      rule: { name: 'borrow', kind: 'agent_revoked', channel_ids: [a.channel.id] },
    });
    await expect(borrowing).rejects.toBeInstanceOf(DomainError);
    await expect(borrowing).rejects.toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      errors: [{ field: 'channel_ids' }],
    });

    await platform.publish(EventKinds.agentRevoked, a.organizationId, 'agent-9', clock.iso());
    await waitFor("A's webhook", () => a.receiver.requests.length === 1);
    await fewTicks();
    expect(b.receiver.started).toBe(0);
    expect((await alerts(b.organizationId)).total).toBe(0);
  });

  it('the same event delivered twice notifies once', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_revoked' });
    const event = {
      id: randomUUID(),
      kind: EventKinds.agentRevoked,
      organizationId,
      environment: 'prod-1',
      agentId: 'agent-11',
      occurredAt: clock.iso(),
      data: {},
    };
    // Published without a message id, so JetStream stores both copies: what a redelivery after a crash looks like.
    const js = platform.nc.jetstream();
    await js.publish(Subjects.event(EventKinds.agentRevoked), json.encode(event));
    await js.publish(Subjects.event(EventKinds.agentRevoked), json.encode(event));
    await platform.publish(EventKinds.agentRevoked, organizationId, 'agent-12', clock.iso());
    await waitFor('the second agent notified', () => receiver.requests.length === 2);
    await fewTicks();
    const agents = receiver.requests.map((r) => JSON.parse(r.rawBody).alert.agent_id);
    expect(agents.sort()).toEqual(['agent-11', 'agent-12']);
  });

  it('a rule scoped to an environment ignores agents elsewhere', async () => {
    const { organizationId, receiver } = await organisation({
      kind: 'agent_revoked',
      environment: 'staging',
    });
    await platform.publish(EventKinds.agentRevoked, organizationId, 'agent-prod', clock.iso());
    await platform.events.publish({
      kind: EventKinds.agentRevoked,
      organizationId,
      environment: 'staging',
      agentId: 'agent-staging',
      occurredAt: clock.iso(),
      data: {},
    });
    await waitFor('the staging webhook', () => receiver.requests.length === 1);
    await fewTicks();
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0].rawBody).alert.agent_id).toBe('agent-staging');
  });

  it('a malformed event is parked on the dead-letter stream and the next one is still handled', async () => {
    const { organizationId, receiver } = await organisation({ kind: 'agent_revoked' });
    await platform.nc
      .jetstream()
      .publish(Subjects.event(EventKinds.agentRevoked), json.encode({ kind: 'agent.revoked' }));
    await platform.publish(EventKinds.agentRevoked, organizationId, 'agent-10', clock.iso());
    await waitFor('the webhook after the bad event', () => receiver.requests.length === 1);
    const jsm = await platform.nc.jetstreamManager();
    const parked = await jsm.streams.getMessage(Streams.deadLetter, {
      last_by_subj: Subjects.deadLetter('alerting'),
    });
    expect(parked.header.get(Headers.deadLetterReason)).toBe('event has no id');
  });
});
