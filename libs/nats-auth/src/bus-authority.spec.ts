import { connect, jwtAuthenticator, NatsConnection, StringCodec } from 'nats';
import { createUser } from 'nkeys.js';
import { inboxPrefix, Streams, Subjects } from '@app/contracts';
import { NatsServerHandle, startNatsServer, waitFor } from '@app/testing';
import { agentUserClaims, signUserJwt } from './account-claims';

const sc = StringCodec();

describe('the bus in operator mode', () => {
  let nats: NatsServerHandle;
  const open: NatsConnection[] = [];
  const track = (nc: NatsConnection) => (open.push(nc), nc);

  beforeAll(async () => {
    nats = await startNatsServer({ secured: true });
    const ingestion = track(await nats.bus!.connect('ingestion'));
    await (
      await ingestion.jetstreamManager()
    ).streams.add({
      name: Streams.metrics,
      subjects: [Subjects.metricsWildcard],
      max_bytes: 1024 * 1024,
    });
  });
  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await nats?.dispose();
  });

  const agentConnection = async (environment: string, agentId: string) => {
    const key = createUser();
    const authority = nats.bus!.authority;
    const keys = authority.accountKeys();
    const jwt = await signUserJwt({
      name: agentId,
      user: key.getPublicKey(),
      account: keys.agents,
      signer: authority.seed('agents-signing'),
      claims: agentUserClaims(environment, agentId),
      expiresAtMs: Date.now() + 60_000,
    });
    return track(
      await connect({
        servers: nats.url,
        authenticator: jwtAuthenticator(jwt, key.getSeed()),
        tls: { caFile: nats.bus!.caFile },
        inboxPrefix: inboxPrefix(agentId),
      }),
    );
  };

  it('refuses a client without credentials', async () => {
    await expect(
      connect({ servers: nats.url, tls: { caFile: nats.bus!.caFile }, reconnect: false }),
    ).rejects.toThrow(/Authorization/i);
  });

  it('refuses a client that does not trust the platform CA', async () => {
    await expect(
      connect({ servers: nats.url, ...nats.bus!.options('admin'), tls: {}, reconnect: false }),
    ).rejects.toThrow();
  });

  it("carries an agent's heartbeat to ingestion and acknowledges its metrics from the platform's stream", async () => {
    const ingestion = track(await nats.bus!.connect('ingestion'));
    const heard: string[] = [];
    ingestion.subscribe(Subjects.heartbeatWildcard, { callback: (_, msg) => heard.push(msg.subject) });
    await ingestion.flush();
    const agent = await agentConnection('prod-1', 'ag_one');
    agent.publish(Subjects.heartbeat('prod-1', 'ag_one'), sc.encode('{}'));
    const ack = await agent
      .jetstream()
      .publish(Subjects.metrics('prod-1', 'ag_one'), sc.encode('{}'), { msgID: 'ag_one:1' });
    expect(ack.stream).toBe(Streams.metrics);
    await waitFor('the heartbeat at ingestion', () => heard.includes(Subjects.heartbeat('prod-1', 'ag_one')));
  });

  it("does not let an agent publish another agent's subject or read others' traffic", async () => {
    const agent = await agentConnection('prod-1', 'ag_two');
    const errors: string[] = [];
    void (async () => {
      for await (const status of agent.status())
        if (status.type === 'error') errors.push(String(status.data));
    })();
    agent.publish(Subjects.heartbeat('prod-1', 'ag_one'), sc.encode('{}'));
    agent.subscribe('>');
    await agent.flush().catch(() => undefined);
    await waitFor(
      'two permission violations',
      () => errors.filter((e) => /PERMISSIONS_VIOLATION/.test(e)).length >= 2,
    );
  });
});
