import { randomUUID } from 'node:crypto';
import { connect, JSONCodec, NatsConnection, RetentionPolicy, StorageType } from 'nats';
import {
  AgentControlMessage,
  EnrollReply,
  EnrollRequest,
  Headers,
  Heartbeat,
  PROTOCOL_VERSION,
  RpcRequestPacket,
  RpcResponsePacket,
  Streams,
  Subjects,
} from '@app/contracts';
import { ensureStream } from '@app/messaging';

const json = JSONCodec<unknown>();

export interface ReceivedHeartbeat {
  subject: string;
  credential: string | undefined;
  body: Heartbeat;
}

/**
 * The platform side an agent talks to, for tests and the footprint bench: answers `agents.enroll`
 * in the NestJS envelope (like provisioning does), records heartbeats, owns the AGENT_METRICS stream
 * and can publish control messages. It is not the platform's logic: tokens are accepted by value.
 */
export interface FakePlatform {
  enrollments: { token: string | undefined; request: EnrollRequest }[];
  heartbeats: ReceivedHeartbeat[];
  /** Tokens whose enrollment is refused with TOKEN_REVOKED. */
  refusedTokens: Set<string>;
  nc: NatsConnection;
  sendControl(environment: string, agentId: string, message: AgentControlMessage): Promise<void>;
  close(): Promise<void>;
}

export async function startFakePlatform(natsUrl: string, environment = 'prod-1'): Promise<FakePlatform> {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, {
    name: Streams.metrics,
    subjects: [Subjects.metricsWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: 120 * 1_000_000_000,
  });
  const platform: FakePlatform = {
    enrollments: [],
    heartbeats: [],
    refusedTokens: new Set(),
    nc,
    async sendControl(env, agentId, message) {
      nc.publish(Subjects.agentControl(env, agentId), json.encode(message));
      await nc.flush();
    },
    async close() {
      if (!nc.isClosed()) await nc.close();
    },
  };

  nc.subscribe(Subjects.enroll, {
    callback: (_, msg) => {
      const packet = json.decode(msg.data) as RpcRequestPacket<EnrollRequest>;
      const token = msg.headers?.get(Headers.enrollmentToken) || undefined;
      platform.enrollments.push({ token, request: packet.data });
      const reply: RpcResponsePacket<EnrollReply> =
        token && platform.refusedTokens.has(token)
          ? {
              id: packet.id,
              err: { code: 'TOKEN_REVOKED', message: 'token has been revoked' },
              isDisposed: true,
            }
          : {
              id: packet.id,
              isDisposed: true,
              response: {
                agentId: `agt_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
                credential: `rca_ac_${randomUUID().replace(/-/g, '')}`,
                organizationId: 'org_test',
                environment,
                heartbeatIntervalSeconds: 1,
                protocolVersion: PROTOCOL_VERSION,
                reenrolled: false,
              },
            };
      msg.respond(json.encode(reply));
    },
  });
  nc.subscribe(Subjects.heartbeatWildcard, {
    callback: (_, msg) => {
      platform.heartbeats.push({
        subject: msg.subject,
        credential: msg.headers?.get(Headers.credential) || undefined,
        body: json.decode(msg.data) as Heartbeat,
      });
    },
  });
  await nc.flush();
  return platform;
}
