import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connect,
  credsAuthenticator,
  jwtAuthenticator,
  JSONCodec,
  NatsConnection,
  NatsError,
  StringCodec,
} from 'nats';
import { AgentExitCodes } from '@app/agent-core';
import { EnrollReply, inboxPrefix, Streams, Subjects } from '@app/contracts';
import { BusAuthority, customPermissions } from '@app/nats-auth';
import { TestAgentKey, waitFor } from '@app/testing';
import {
  agentCommandEnvironment,
  BUILD_TIMEOUT_MS,
  cleanEnv,
  ensureBuilt,
  RunningLauncher,
  startLauncher,
} from './support/launcher';
import { AgentProcess, Api, apiClient, runAdmin, startAgent } from './support/platform-api';

/**
 * The attacks of issue #13, repeated against the bus `npm start` runs, as (a) a client with no
 * credentials, (b) a holder of nothing but an enrollment token, and (c) a genuine enrolled agent using
 * its own key and JWT. Each must be refused, and afterwards nothing the platform keeps has changed:
 * streams, events, dead letters, API keys, the victim agent's state and process.
 */
const sc = StringCodec();
const json = JSONCodec<unknown>();
const HEARTBEAT_SECONDS = 1;

interface Refusals {
  errors: string[];
}

/** Collects the connection's asynchronous errors (permission violations arrive this way). */
function watch(nc: NatsConnection): Refusals {
  const refusals: Refusals = { errors: [] };
  void (async () => {
    for await (const status of nc.status())
      if (status.type === 'error') refusals.errors.push(String(status.data));
  })();
  return refusals;
}

/** A request the server must refuse: rejected with a permission violation (never answered). */
async function refusedRequest(nc: NatsConnection, subject: string, body: unknown = {}): Promise<string> {
  try {
    await nc.request(subject, json.encode({ pattern: subject, id: 'attack', data: body }), { timeout: 3000 });
  } catch (error) {
    return error instanceof NatsError ? `${error.code} ${error.message}` : String(error);
  }
  throw new Error(`${subject} was answered`);
}

describe('the bus holds against a hostile client (npm start, operator mode)', () => {
  let dataDir: string;
  let stateDir: string;
  let launcher: RunningLauncher;
  let api: Api;
  let platformUrl: string;
  let natsUrl: string;
  let caFile: string;
  let victim: AgentProcess;
  let victimId: string;
  let observer: NatsConnection;
  let attacker: { nc: NatsConnection; refusals: Refusals; agentId: string; jwt: string; key: TestAgentKey };
  let before: Awaited<ReturnType<typeof snapshot>>;
  /** (b)'s only possession. */
  let enrollmentToken: string;
  const opened: NatsConnection[] = [];

  const serverLog = () => readFileSync(join(dataDir, 'nats', 'nats-server.log'), 'utf8');

  /** What an attack could change: stream contents and configuration, the fleet, the API keys. */
  const snapshot = async () => {
    const jsm = await observer.jetstreamManager();
    const streams: Record<
      string,
      { messages: number; bytes: number; denyDelete: boolean; denyPurge: boolean; maxBytes: number }
    > = {};
    for await (const info of jsm.streams.list()) {
      streams[info.config.name] = {
        messages: info.state.messages,
        bytes: info.state.bytes,
        denyDelete: info.config.deny_delete,
        denyPurge: info.config.deny_purge,
        maxBytes: info.config.max_bytes,
      };
    }
    const agents = (await api<{ items: { id: string; status: string }[] }>('GET', '/api/v1/agents')).body
      .items;
    const keys = (await api<unknown[]>('GET', '/api/v1/api-keys')).body;
    return { streams, agents: agents.map((a) => `${a.id}:${a.status}`).sort(), keys: JSON.stringify(keys) };
  };

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'rca-bus-security-'));
    stateDir = mkdtempSync(join(tmpdir(), 'rca-bus-victim-'));
    launcher = await startLauncher(
      cleanEnv({
        DATA_DIR: dataDir,
        PORT: '0',
        HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
        DEFAULT_HEARTBEAT_INTERVAL_SECONDS: String(HEARTBEAT_SECONDS),
      }),
    );
    api = apiClient(launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:'), launcher.banner.apiKey);
    natsUrl = launcher.banner.natsUrl;
    caFile = join(dataDir, 'nats-auth', 'tls', 'ca.pem');
    const agentEnv = agentCommandEnvironment(launcher.banner.agentCommand!);
    platformUrl = agentEnv.RCA_PLATFORM_URL;

    // An operator's read-only view of the streams (what `nats-user create` hands out).
    const authority = BusAuthority.open(join(dataDir, 'nats-auth'));
    observer = await connect({
      servers: natsUrl,
      authenticator: credsAuthenticator(
        await authority.platformCreds(
          'observer',
          customPermissions(
            ['$JS.API.INFO', '$JS.API.STREAM.INFO.*', '$JS.API.STREAM.LIST', '$JS.API.STREAM.NAMES'],
            [],
          ),
        ),
      ),
      tls: { caFile },
      inboxPrefix: '_INBOX_observer',
    });
    opened.push(observer);

    victim = startAgent(
      cleanEnv({ ...agentEnv, RCA_HEARTBEAT_INTERVAL: String(HEARTBEAT_SECONDS), RCA_STATE_DIR: stateDir }),
    );
    const online = await waitFor(
      'the victim agent online',
      async () =>
        (await api<{ items: { id: string; status: string }[] }>('GET', '/api/v1/agents')).body.items?.find(
          (a) => a.status === 'online',
        ),
      30_000,
      200,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${victim.output()}\n${launcher.output().slice(-4000)}`);
    });
    victimId = online.id;

    // The attacker: a genuine agent, enrolled with a token of the same organisation, on its own key.
    const provisioned = await api<{ enrollment_token: string }>('POST', '/api/v1/agent/provision', {
      agent_type: 'server',
      environment_name: 'dev',
    });
    const key = new TestAgentKey();
    const ca = readFileSync(caFile);
    const enrolled = await fetchJson<EnrollReply>(`${platformUrl}/api/v1/intake/enroll`, ca, {
      authorization: `Bearer ${provisioned.body.enrollment_token}`,
      body: {
        agentType: 'server',
        agentVersion: '0.1.0',
        host: { hostname: 'attacker', hostId: 'attacker-host', os: 'linux' },
        identity: key.claim('attacker-host'),
      },
    });
    const nc = await connect({
      servers: natsUrl,
      authenticator: jwtAuthenticator(enrolled.jwt, key.key.getSeed()),
      tls: { caFile },
      inboxPrefix: inboxPrefix(enrolled.agentId),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    opened.push(nc);
    attacker = { nc, refusals: watch(nc), agentId: enrolled.agentId, jwt: enrolled.jwt, key };
    enrollmentToken = (
      await api<{ enrollment_token: string }>('POST', '/api/v1/agent/provision', {
        agent_type: 'server',
        environment_name: 'dev',
      })
    ).body.enrollment_token;
    await waitFor(
      'metrics of the victim stored',
      async () => (await snapshot()).streams[Streams.metrics]?.messages > 0,
      20_000,
    );
    before = await snapshot();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const nc of opened) await nc.close().catch(() => undefined);
    victim?.kill('SIGKILL');
    await launcher?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  describe('(a) without credentials', () => {
    it('cannot connect at all, with or without TLS', async () => {
      await expect(
        connect({ servers: natsUrl, tls: { caFile }, reconnect: false, timeout: 3000 }),
      ).rejects.toThrow(/Authorization Violation/i);
      // Not even to read: a plain-text client is refused before authentication (TLS is required).
      await expect(
        connect({
          servers: natsUrl.replace('tls://', 'nats://'),
          tls: null,
          reconnect: false,
          timeout: 3000,
        } as never),
      ).rejects.toThrow();
    });

    it('cannot connect with a user it made up, even one signed by its own "account"', async () => {
      const fake = new TestAgentKey();
      const { signUserJwt, agentUserClaims } = await import('@app/nats-auth');
      const { createAccount } = await import('nkeys.js');
      const rogueAccount = createAccount();
      const jwt = await signUserJwt({
        name: 'rogue',
        user: fake.publicKey,
        account: rogueAccount,
        claims: agentUserClaims('dev', victimId),
      });
      await expect(
        connect({
          servers: natsUrl,
          authenticator: jwtAuthenticator(jwt, fake.key.getSeed()),
          tls: { caFile },
          reconnect: false,
          timeout: 3000,
        }),
      ).rejects.toThrow(/Authorization Violation/i);
    });
  });

  describe('(b) with only an enrollment token', () => {
    it('has no NATS identity, and the intake takes nothing from it but an enrollment', async () => {
      const token = enrollmentToken;
      await expect(
        connect({ servers: natsUrl, token, tls: { caFile }, reconnect: false, timeout: 3000 }),
      ).rejects.toThrow(/Authorization Violation/i);
      const ca = readFileSync(caFile);
      // A heartbeat "signed" with the token, or for the victim without its key: refused.
      const asBearer = await fetchStatus(`${platformUrl}/api/v1/intake/heartbeat`, ca, {
        authorization: `Bearer ${token}`,
        body: { agentId: victimId },
      });
      expect(asBearer).toBe(401);
      const forged = new TestAgentKey();
      const body = JSON.stringify({ agentId: victimId });
      const unsigned = await fetchStatus(`${platformUrl}/api/v1/intake/heartbeat`, ca, {
        headers: forged.signedHeaders(victimId, 'heartbeat', body),
        raw: body,
      });
      expect(unsigned).toBe(401);
      // An API route does not take it either.
      expect(
        (
          await apiClient(launcher.banner.baseUrl.replace('//localhost:', '//127.0.0.1:'), token)(
            'GET',
            '/api/v1/agents',
          )
        ).status,
      ).toBe(401);
    });
  });

  describe('(c) as a genuine agent, with its own key and JWT', () => {
    it('may publish its own heartbeat (the control case)', async () => {
      attacker.nc.publish(Subjects.heartbeat('dev', attacker.agentId), sc.encode('{}'));
      await attacker.nc.flush();
      expect(attacker.refusals.errors).toEqual([]);
    });

    it.each([
      ['subscribe to everything', '>'],
      ['read every inbox', '_INBOX.>'],
      ["read the platform's inboxes", '_INBOX_gateway.>'],
      ['listen to all events', 'events.>'],
      ["read other agents' heartbeats", 'agents.*.*.heartbeat'],
      ['answer token verifications before the token service', 'tokens.verifyMany'],
      ['intercept enrollments', Subjects.enroll],
      ["hear another agent's control messages", 'agents.dev.*.control'],
    ])('cannot %s (%s)', async (_what, subject) => {
      const sub = attacker.nc.subscribe(subject);
      const refusal = (async () => {
        try {
          for await (const message of sub) return `received ${message.subject}`;
          return 'closed without an error';
        } catch (error) {
          return (error as Error).message;
        }
      })();
      await attacker.nc.flush();
      expect(await refusal).toBe(`'Permissions Violation for Subscription to "${subject}"'`);
    });

    it.each([
      ['list every tenant', Subjects.tokens.listOrganizations],
      ['mint an API key', Subjects.tokens.issue],
      ['verify tokens', Subjects.tokens.verifyMany],
      ['sign itself a JWT for another key', Subjects.tokens.agents.issue],
      ["list another organisation's fleet", Subjects.fleet.list],
      ['revoke an agent', Subjects.fleet.revoke],
      ['provision', Subjects.provisioning.provision],
      ['create an alert channel', Subjects.alerts.createChannel],
      ['query metrics', Subjects.metricsQuery],
      ['delete the EVENTS stream', `$JS.API.STREAM.DELETE.${Streams.events}`],
      ['purge the metrics stream', `$JS.API.STREAM.PURGE.${Streams.metrics}`],
      ['delete a durable consumer', `$JS.API.CONSUMER.DELETE.${Streams.events}.alerting`],
      ['read a stored metrics message', `$JS.API.DIRECT.GET.${Streams.metrics}`],
      ['read a stored message by sequence', `$JS.API.STREAM.MSG.GET.${Streams.metrics}`],
      ["renew another agent's JWT", Subjects.agentRenew('dev', 'ag_victim')],
    ])('cannot %s (%s)', async (_what, subject) => {
      const refusal = await refusedRequest(attacker.nc, subject.replace('ag_victim', victimId));
      expect(refusal).toMatch(/PERMISSIONS_VIOLATION|Permissions Violation/);
    });

    it.each([
      ["forge another agent's heartbeat", () => Subjects.heartbeat('dev', victimId)],
      ["forge another agent's metrics", () => Subjects.metrics('dev', victimId)],
      ['speak for itself in another environment', () => Subjects.heartbeat('prod', 'whoever')],
      ['stop another agent', () => Subjects.agentControl('dev', victimId)],
      ['stop itself through the platform subject', () => Subjects.agentControl('dev', 'ag_any')],
      ['announce an agent offline', () => Subjects.event('agent.offline')],
      ['announce a token revoked', () => Subjects.event('token.revoked')],
      ['fill the dead-letter stream', () => Subjects.deadLetter('metrics')],
    ])('cannot %s', async (_what, subject) => {
      attacker.nc.publish(subject(), new Uint8Array(256 * 1024));
      await attacker.nc.flush();
      // The server says so to the client, and logs which user tried which subject.
      await waitFor('the refusal in the nats-server log', () =>
        serverLog().includes(`Publish Violation - Nkey "${attacker.key.publicKey}", Subject "${subject()}"`),
      );
      expect(attacker.refusals.errors).toContain('PERMISSIONS_VIOLATION');
    });

    it('has changed nothing: streams, stored events and dead letters, API keys, the fleet, the victim', async () => {
      // The victim kept running and sending the whole time.
      expect(victim.exitCode()).toBeUndefined();
      const after = await snapshot();
      expect(after.keys).toBe(before.keys);
      expect(after.agents).toEqual(before.agents);
      expect(Object.keys(after.streams).sort()).toEqual(Object.keys(before.streams).sort());
      expect(after.streams[Streams.deadLetter]?.messages ?? 0).toBe(
        before.streams[Streams.deadLetter]?.messages ?? 0,
      );
      expect(after.streams[Streams.events].messages).toBe(before.streams[Streams.events].messages);
      // Metrics only grew (the victim's), never shrank.
      expect(after.streams[Streams.metrics].messages).toBeGreaterThanOrEqual(
        before.streams[Streams.metrics].messages,
      );
      // Every stream is bounded and cannot be deleted from or purged through the API.
      for (const [name, stream] of Object.entries(after.streams)) {
        expect({ name, denyDelete: stream.denyDelete, denyPurge: stream.denyPurge }).toEqual({
          name,
          denyDelete: true,
          denyPurge: true,
        });
        expect(stream.maxBytes).toBeGreaterThan(0);
      }
    });
  });

  describe('an internal consumer (npm run admin -- nats-user create)', () => {
    it('gets creds that read events and nothing else', async () => {
      const credsFile = join(dataDir, 'events-reader.creds');
      const created = await runAdmin(
        ['nats-user', 'create', 'events-reader', '--subscribe', 'events.>', '--out', credsFile],
        cleanEnv({ DATA_DIR: dataDir, NATS_URL: natsUrl }),
      );
      expect(created.code).toBe(0);
      expect(created.output).toMatch(/may subscribe \[events\.>\] and publish \[\]/);
      const reader = await connect({
        servers: natsUrl,
        authenticator: credsAuthenticator(readFileSync(credsFile)),
        tls: { caFile },
        inboxPrefix: '_INBOX_events-reader',
      });
      opened.push(reader);
      const refusals = watch(reader);
      const events = reader.subscribe('events.>');
      await reader.flush();
      // A fact happens: a new environment.
      expect(
        (
          await api('POST', '/api/v1/agent/provision', {
            agent_type: 'server',
            environment_name: 'reader-check',
          })
        ).status,
      ).toBe(201);
      for await (const message of events) {
        if (message.subject === Subjects.event('environment.created')) break;
      }
      reader.publish(Subjects.event('agent.offline'), sc.encode('{}'));
      await reader.flush();
      await waitFor('its publish refused', () => refusals.errors.includes('PERMISSIONS_VIOLATION'));
      expect(await refusedRequest(reader, Subjects.tokens.listOrganizations)).toMatch(
        /PERMISSIONS_VIOLATION|Permissions Violation/,
      );
    });

    it("refuses the name of a platform identity (its inbox would read that service's replies)", async () => {
      const refused = await runAdmin(
        ['nats-user', 'create', 'tokens', '--subscribe', 'events.>'],
        cleanEnv({ DATA_DIR: dataDir }),
      );
      expect(refused.code).toBe(1);
      expect(refused.output).toMatch(/"tokens" is the name of a platform identity/);
    });
  });

  describe('revocation', () => {
    it("closes the agent's open connection and refuses its reconnect within seconds (measured)", async () => {
      const disconnected = new Promise<number>((resolve) => {
        void (async () => {
          for await (const status of attacker.nc.status())
            if (status.type === 'disconnect') return resolve(Date.now());
        })();
      });
      const revokeStarted = Date.now();
      const res = await api('DELETE', `/api/v1/agents/${attacker.agentId}`);
      expect(res.status).toBe(200);
      const answeredAt = Date.now();
      const closedAt = await Promise.race([
        disconnected,
        new Promise<number>((r) => setTimeout(() => r(-1), 10_000)),
      ]);
      expect(closedAt).toBeGreaterThan(0);
      // Its JWT is refused from now on, whatever it does.
      await expect(
        connect({
          servers: natsUrl,
          authenticator: jwtAuthenticator(attacker.jwt, attacker.key.key.getSeed()),
          tls: { caFile },
          reconnect: false,
          timeout: 3000,
        }),
      ).rejects.toThrow(/Authorization Violation|revoked/i);
      const ca = readFileSync(caFile);
      const renewal = await fetchStatus(`${platformUrl}/api/v1/intake/renew`, ca, {
        body: attacker.key.renewRequest(attacker.agentId),
      });
      expect(renewal).toBe(401);
      process.stdout.write(
        `revocation: DELETE answered in ${answeredAt - revokeStarted} ms; connection closed ${closedAt - revokeStarted} ms after the request\n`,
      );
      expect(closedAt - revokeStarted).toBeLessThan(5000);
    });

    it('stops a real agent process (exit 78) and its state survives a restart of the platform', async () => {
      const revokedAt = Date.now();
      expect((await api('DELETE', `/api/v1/agents/${victimId}`)).status).toBe(200);
      expect(await victim.exited()).toBe(AgentExitCodes.revoked);
      process.stdout.write(`revocation: agent process exited 78 after ${Date.now() - revokedAt} ms\n`);

      await launcher.stop();
      launcher = await startLauncher(cleanEnv({ DATA_DIR: dataDir, PORT: '0' }));
      // Its key is still refused by the restarted bus: the revocation is in the account JWT on disk.
      const key = readFileSync(join(stateDir, 'agent.nk'), 'utf8').trim();
      const { jwt } = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { jwt: string };
      await expect(
        connect({
          servers: launcher.banner.natsUrl,
          authenticator: jwtAuthenticator(jwt, new TextEncoder().encode(key)),
          tls: { caFile },
          reconnect: false,
          timeout: 3000,
        }),
      ).rejects.toThrow(/Authorization Violation|revoked/i);
    });
  });
});

/** HTTPS to the gateway, trusting the platform CA (what an agent does after checking the pin). */
async function request(
  url: string,
  ca: Buffer,
  options: { authorization?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
): Promise<{ status: number; text: string }> {
  const { request: httpsRequest } = await import('node:https');
  const body = options.raw ?? JSON.stringify(options.body ?? {});
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        ca,
        headers: {
          'content-type': 'application/json',
          ...(options.authorization ? { authorization: options.authorization } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function fetchStatus(url: string, ca: Buffer, options: Parameters<typeof request>[2]): Promise<number> {
  return (await request(url, ca, options)).status;
}

async function fetchJson<T>(url: string, ca: Buffer, options: Parameters<typeof request>[2]): Promise<T> {
  const { status, text } = await request(url, ca, options);
  if (status !== 200) throw new Error(`POST ${url}: ${status} ${text}`);
  return JSON.parse(text) as T;
}
