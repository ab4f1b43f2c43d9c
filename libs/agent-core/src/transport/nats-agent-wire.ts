import { headers as natsHeaders, JetStreamClient, JSONCodec, NatsConnection } from 'nats';
import { Logger } from 'pino';
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
// Single files, not the lib's index: the index loads NestJS modules (~30 MB of RSS) the agent never uses.
import { connectNats } from '@app/messaging/nats-connection';
import { RpcClient } from '@app/messaging/rpc-client';
import { ConnectionState } from '@app/messaging/connection-state';
import { AgentIdentity, AgentWire } from './agent-wire';
import { PendingBatch } from './metrics-buffer';

const json = JSONCodec<unknown>();

/** How long one JetStream publish waits for its ack before the batch stays buffered. */
export const PUBLISH_ACK_TIMEOUT_MS = 5000;

/** The agent over NATS: enroll by request/reply, heartbeats on core NATS, metrics to JetStream. */
export class NatsAgentWire implements AgentWire {
  private readonly rpc: RpcClient;
  private readonly js: JetStreamClient;
  private readonly link: ConnectionState;
  private reconnectHandler?: () => void;

  constructor(
    readonly nc: NatsConnection,
    rpcTimeoutMs: number,
    private readonly log?: Logger,
  ) {
    this.rpc = new RpcClient(nc, rpcTimeoutMs);
    this.js = nc.jetstream();
    this.link = ConnectionState.of(nc);
    this.link.onReconnect(() => this.reconnectHandler?.());
    void this.watchStatus();
  }

  /** Connects (waiting and retrying forever, with jitter) and wraps the connection. */
  static async connect(url: string, name: string, rpcTimeoutMs: number, log: Logger): Promise<NatsAgentWire> {
    return new NatsAgentWire(await connectNats({ url, name }), rpcTimeoutMs, log);
  }

  enroll(token: string, request: EnrollRequest): Promise<EnrollReply> {
    return this.rpc.request<EnrollReply, EnrollRequest>(Subjects.enroll, request, {
      headers: { [Headers.enrollmentToken]: token, [Headers.protocolVersion]: String(PROTOCOL_VERSION) },
    });
  }

  publishHeartbeat(identity: AgentIdentity, heartbeat: Heartbeat): void {
    this.nc.publish(Subjects.heartbeat(identity.environment, identity.agentId), json.encode(heartbeat), {
      headers: this.credentialHeaders(identity),
    });
  }

  async publishMetrics(identity: AgentIdentity, batch: PendingBatch): Promise<void> {
    // While reconnecting nats.js would drop the publish; fail now and let the reconnect resend it.
    if (!this.link.isConnected) throw new Error('not connected to NATS');
    await this.js.publish(Subjects.metrics(identity.environment, identity.agentId), batch.data, {
      msgID: metricsMsgId(identity.agentId, batch.seq),
      headers: this.credentialHeaders(identity),
      timeout: PUBLISH_ACK_TIMEOUT_MS,
    });
  }

  onControl(
    identity: AgentIdentity,
    handler: (message: AgentControlMessage) => void,
    onInvalid: (error: unknown) => void,
  ): void {
    this.nc.subscribe(Subjects.agentControl(identity.environment, identity.agentId), {
      callback: (error, msg) => {
        if (error) return onInvalid(error);
        try {
          handler(validateDto(AgentControlMessage, json.decode(msg.data), { allowUnknown: true }));
        } catch (invalid) {
          onInvalid(invalid);
        }
      },
    });
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandler = handler;
  }

  isClosed(): boolean {
    return this.nc.isClosed();
  }

  async close(graceful: boolean): Promise<void> {
    if (this.nc.isClosed()) return;
    if (graceful) await this.nc.drain();
    else await this.nc.close();
  }

  private credentialHeaders(identity: AgentIdentity) {
    const h = natsHeaders();
    h.set(Headers.credential, identity.credential);
    h.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
    return h;
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect')
        this.log?.warn({ server: status.data }, 'disconnected from NATS; buffering metrics');
      if (status.type === 'reconnect')
        this.log?.info({ server: status.data }, 'reconnected to NATS; resending buffered metrics');
    }
  }
}
