import { headers as natsHeaders, JetStreamClient, JSONCodec, NatsConnection, Subscription } from 'nats';
import {
  AgentControlMessage,
  EnrollReply,
  EnrollRequest,
  Headers,
  Heartbeat,
  metricsMsgId,
  PROTOCOL_VERSION,
  Subjects,
  validateDto,
} from '@app/contracts';
// The file, not the lib's index: the index loads NestJS modules the agent never uses.
import { RpcClient } from '@app/messaging/rpc-client';
import { PendingBatch } from './metrics-buffer';

const json = JSONCodec<unknown>();

/** How long one JetStream publish waits for its ack before the batch stays buffered. */
export const PUBLISH_ACK_TIMEOUT_MS = 5000;

export interface AgentIdentity {
  agentId: string;
  environment: string;
  credential: string;
}

/** The agent's side of the wire: enroll, heartbeat, metrics, control. Nothing else speaks NATS for it. */
export class AgentTransport {
  private readonly rpc: RpcClient;
  private readonly js: JetStreamClient;

  constructor(
    readonly nc: NatsConnection,
    rpcTimeoutMs: number,
  ) {
    this.rpc = new RpcClient(nc, rpcTimeoutMs);
    this.js = nc.jetstream();
  }

  /** `agents.enroll` with the token in a header; a refusal arrives as a DomainError with its code. */
  enroll(token: string, request: EnrollRequest): Promise<EnrollReply> {
    return this.rpc.request<EnrollReply, EnrollRequest>(Subjects.enroll, request, {
      headers: { [Headers.enrollmentToken]: token, [Headers.protocolVersion]: String(PROTOCOL_VERSION) },
    });
  }

  private credentialHeaders(identity: AgentIdentity) {
    const h = natsHeaders();
    h.set(Headers.credential, identity.credential);
    h.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
    return h;
  }

  /** Core NATS, fire-and-forget: a lost heartbeat is replaced by the next one. */
  publishHeartbeat(identity: AgentIdentity, heartbeat: Heartbeat): void {
    this.nc.publish(Subjects.heartbeat(identity.environment, identity.agentId), json.encode(heartbeat), {
      headers: this.credentialHeaders(identity),
    });
  }

  /** JetStream publish that resolves once the stream stored it (or rejects: the caller keeps the batch). */
  async publishMetrics(identity: AgentIdentity, batch: PendingBatch): Promise<void> {
    await this.js.publish(Subjects.metrics(identity.environment, identity.agentId), batch.data, {
      msgID: metricsMsgId(identity.agentId, batch.seq),
      headers: this.credentialHeaders(identity),
      timeout: PUBLISH_ACK_TIMEOUT_MS,
    });
  }

  /** Calls `onMessage` for each valid control message; invalid ones are reported to `onInvalid`. */
  subscribeControl(
    identity: AgentIdentity,
    onMessage: (message: AgentControlMessage) => void,
    onInvalid: (error: unknown) => void,
  ): Subscription {
    return this.nc.subscribe(Subjects.agentControl(identity.environment, identity.agentId), {
      callback: (error, msg) => {
        if (error) return onInvalid(error);
        try {
          onMessage(validateDto(AgentControlMessage, json.decode(msg.data), { allowUnknown: true }));
        } catch (invalid) {
          onInvalid(invalid);
        }
      },
    });
  }
}

export function encodeJson(value: unknown): Uint8Array {
  return json.encode(value);
}
