import { randomUUID, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { connect, credsAuthenticator, JSONCodec, NatsConnection, RetentionPolicy, StorageType } from 'nats';
import {
  AGENT_SIGNATURE_HEADER,
  AgentControlMessage,
  AgentJwt,
  AgentStatements,
  EnrollReply,
  EnrollRequest,
  Heartbeat,
  metricsMsgId,
  parseAgentSignatureHeader,
  parseAgentSubject,
  PROTOCOL_VERSION,
  RpcRequestPacket,
  Streams,
  Subjects,
  verifyStatement,
} from '@app/contracts';
import { agentsAccountJwt, agentUserClaims, customPermissions, signUserJwt } from '@app/nats-auth';
import { NatsServerHandle } from './nats-server';

const json = JSONCodec<unknown>();

export interface ReceivedHeartbeat {
  subject: string;
  via: 'nats' | 'http';
  body: Heartbeat;
}

interface EnrolledAgent {
  agentId: string;
  environment: string;
  publicKey: string;
}

/**
 * The platform as an agent meets it, for the agent's own tests and the footprint bench: a secured
 * nats-server (operator mode, real JWTs, real revocation) plus the gateway's intake over HTTP
 * (enroll, renew, ca.pem, signed heartbeat and metrics). It is not the platform's logic: enrollment
 * tokens are accepted by value and every agent lands in one environment.
 */
export interface FakePlatform {
  /** The intake's base URL (`RCA_PLATFORM_URL`). */
  url: string;
  /** The CA file agents must trust for NATS TLS. */
  caFile: string;
  enrollments: { token: string | undefined; request: EnrollRequest }[];
  heartbeats: ReceivedHeartbeat[];
  /** Renewals answered, by channel. */
  renewals: { via: 'nats' | 'http'; agentId: string }[];
  /** Tokens whose enrollment is refused with TOKEN_REVOKED. */
  refusedTokens: Set<string>;
  /** Lifetime of the JWTs it signs. */
  jwtTtlMs: number;
  nc: NatsConnection;
  sendControl(environment: string, agentId: string, message: AgentControlMessage): Promise<void>;
  /** Revokes the agent as the token service does: NATS closes its connection and refuses its JWTs. */
  revoke(agentId: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFakePlatform(
  nats: NatsServerHandle,
  options: { environment?: string; jwtTtlMs?: number } = {},
): Promise<FakePlatform> {
  const bus = nats.bus;
  if (!bus)
    throw new Error('the fake platform needs a secured nats-server (startNatsServer({ secured: true }))');
  const environment = options.environment ?? 'prod-1';
  const authority = bus.authority;
  const keys = authority.accountKeys();
  const creds = await authority.platformCreds('fake-platform', customPermissions(['>'], ['>']));
  const nc = await connect({
    servers: nats.url,
    authenticator: credsAuthenticator(creds),
    tls: { caFile: bus.caFile },
    inboxPrefix: '_INBOX_fake-platform',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 200,
  });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: Streams.metrics,
    subjects: [Subjects.metricsWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: 120 * 1_000_000_000,
    max_bytes: 256 * 1024 * 1024,
  });
  const agents = new Map<string, EnrolledAgent>();
  const revoked = new Map<string, number>();

  const sign = async (agent: EnrolledAgent): Promise<AgentJwt> => {
    const expiresAtMs = Date.now() + platform.jwtTtlMs;
    const jwt = await signUserJwt({
      name: agent.agentId,
      user: agent.publicKey,
      account: keys.agents,
      signer: authority.seed('agents-signing'),
      claims: agentUserClaims(agent.environment, agent.agentId),
      expiresAtMs,
    });
    return { jwt, expiresAt: new Date(expiresAtMs).toISOString() };
  };

  const platform: FakePlatform = {
    url: '',
    caFile: bus.caFile,
    enrollments: [],
    heartbeats: [],
    renewals: [],
    refusedTokens: new Set(),
    jwtTtlMs: options.jwtTtlMs ?? 3600_000,
    nc,
    async sendControl(env, agentId, message) {
      nc.publish(Subjects.agentControl(env, agentId), json.encode(message));
      await nc.flush();
    },
    async revoke(agentId) {
      const agent = agents.get(agentId);
      if (!agent) throw new Error(`unknown agent ${agentId}`);
      revoked.set(agent.publicKey, Math.ceil(Date.now() / 1000));
      const accountJwt = await agentsAccountJwt(keys.agents, authority.seed('operator-signing'), {
        platformAccount: keys.platform,
        signingKey: keys.agentsSigningKey,
        revocations: Object.fromEntries(revoked),
      });
      const system = await bus.connect('system');
      try {
        await system.request('$SYS.REQ.CLAIMS.UPDATE', new TextEncoder().encode(accountJwt), {
          timeout: 5000,
        });
      } finally {
        await system.close();
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (!nc.isClosed()) await nc.close();
    },
  };

  nc.subscribe(Subjects.heartbeatWildcard, {
    callback: (_, msg) => {
      platform.heartbeats.push({
        subject: msg.subject,
        via: 'nats',
        body: json.decode(msg.data) as Heartbeat,
      });
    },
  });
  nc.subscribe(Subjects.renewWildcard, {
    callback: (_, msg) => {
      void (async () => {
        const packet = json.decode(msg.data) as RpcRequestPacket;
        const agentId = parseAgentSubject(msg.subject)?.agentId ?? '';
        const agent = agents.get(agentId);
        const response = agent ? await sign(agent) : undefined;
        platform.renewals.push({ via: 'nats', agentId });
        msg.respond(
          json.encode(
            response
              ? { id: packet.id, isDisposed: true, response }
              : { id: packet.id, isDisposed: true, err: { code: 'NOT_FOUND', message: 'unknown agent' } },
          ),
        );
      })();
    },
  });
  await nc.flush();

  const server: Server = createServer((req, res) => void handle(req, res));
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const refuse = (code: string, message: string) => reply(401, { statusCode: 401, code, message });
    const route = (req.url ?? '').replace(/^\/api\/v1\/intake\//, '');
    if (route === 'ca.pem') return res.end(readFileSync(bus.caFile, 'utf8'));
    if (route === 'enroll') {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const request = JSON.parse(raw.toString()) as EnrollRequest;
      platform.enrollments.push({ token, request });
      if (!token || platform.refusedTokens.has(token))
        return refuse('TOKEN_REVOKED', 'token has been revoked');
      const publicKey = request.identity.publicKey;
      if (
        !verifyStatement(
          publicKey,
          AgentStatements.enroll(publicKey, request.host.hostId),
          request.identity.proof,
        )
      )
        return reply(400, {
          statusCode: 400,
          code: 'VALIDATION_FAILED',
          message: 'identity.proof does not verify',
        });
      const agent = { agentId: `ag_${randomUUID().replace(/-/g, '').slice(0, 16)}`, environment, publicKey };
      agents.set(agent.agentId, agent);
      const signed = await sign(agent);
      const enrolled: EnrollReply = {
        agentId: agent.agentId,
        jwt: signed.jwt,
        jwtExpiresAt: signed.expiresAt,
        organizationId: 'org_test',
        environment,
        heartbeatIntervalSeconds: 1,
        protocolVersion: PROTOCOL_VERSION,
        reenrolled: false,
      };
      return reply(200, enrolled);
    }
    if (route === 'renew') {
      const request = JSON.parse(raw.toString()) as {
        agentId: string;
        publicKey: string;
        signedAt: number;
        signature: string;
      };
      const agent = agents.get(request.agentId);
      const statement = AgentStatements.renew(request.agentId, request.publicKey, request.signedAt);
      if (
        !agent ||
        agent.publicKey !== request.publicKey ||
        !verifyStatement(agent.publicKey, statement, request.signature)
      )
        return refuse('SIGNATURE_INVALID', 'the request signature does not verify');
      if (revoked.has(agent.publicKey))
        return refuse('AGENT_REVOKED', `agent ${agent.agentId} has been revoked`);
      platform.renewals.push({ via: 'http', agentId: agent.agentId });
      return reply(200, await sign(agent));
    }
    // heartbeat, metrics: signed by the agent's key.
    const signed = parseAgentSignatureHeader(req.headers[AGENT_SIGNATURE_HEADER] as string | undefined);
    const agent = signed && agents.get(signed.agentId);
    const digest = createHash('sha256').update(raw).digest('hex');
    if (
      !signed ||
      !agent ||
      !verifyStatement(
        agent.publicKey,
        AgentStatements.request('POST', route, signed.signedAt, digest),
        signed.signature,
      )
    )
      return refuse('SIGNATURE_INVALID', 'the request signature does not verify');
    if (revoked.has(agent.publicKey))
      return refuse('AGENT_REVOKED', `agent ${agent.agentId} has been revoked`);
    const body = JSON.parse(raw.toString()) as { agentId: string; seq?: number };
    if (route === 'heartbeat') {
      platform.heartbeats.push({
        subject: Subjects.heartbeat(agent.environment, agent.agentId),
        via: 'http',
        body: body as Heartbeat,
      });
      return reply(202, { accepted: true });
    }
    const ack = await nc.jetstream().publish(Subjects.metrics(agent.environment, agent.agentId), raw, {
      msgID: metricsMsgId(agent.agentId, body.seq ?? 0),
    });
    return reply(202, { accepted: true, duplicate: ack.duplicate });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  platform.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return platform;
}
