import {
  connect,
  headers as natsHeaders,
  JetStreamClient,
  JSONCodec,
  jwtAuthenticator,
  NatsConnection,
} from 'nats';
import { Logger } from 'pino';
import {
  AgentConfigDocument,
  AgentControlMessage,
  AgentJwt,
  Headers,
  Heartbeat,
  inboxPrefix,
  metricsMsgId,
  PROTOCOL_VERSION,
  Subjects,
  validateDto,
} from '@app/contracts';
// Single files, not the lib's index: the index loads NestJS modules (~30 MB of RSS) the agent never uses.
import { natsConnectionOptions } from '@app/messaging/nats-connection';
import { RpcClient } from '@app/messaging/rpc-client';
import { ConnectionState } from '@app/messaging/connection-state';
import type { ConfigChannel } from '../remote-config/remote-config';
import { AgentIdentity, AgentWire } from './agent-wire';
import { PendingBatch } from './metrics-buffer';

const json = JSONCodec<unknown>();

/** How long one JetStream publish waits for its ack before the batch stays buffered. */
export const PUBLISH_ACK_TIMEOUT_MS = 5000;

/** The agent's NATS identity: its JWT (read at every connect, so a renewed one is used) and its key. */
export interface NatsAgentCredentials {
  identity: AgentIdentity;
  jwt: () => string;
  seed: Uint8Array;
  /** PEM of the CA that signed the server's certificate; TLS is then required. */
  ca?: string;
}

/**
 * The agent over NATS, as its own user: heartbeats on core NATS, metrics to JetStream, control
 * messages on its own subject, JWT renewal on its own renew subject. No secret travels in messages:
 * the connection itself (an nkey challenge signed with the agent's key) is the identity.
 */
export class NatsAgentWire implements AgentWire {
  private readonly rpc: RpcClient;
  private readonly js: JetStreamClient;
  private readonly link: ConnectionState;
  private reconnectHandler?: () => void;
  private authErrorHandler?: (reason: string) => void;

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

  /**
   * Connects as the agent's own user, retrying forever with jittered backoff. A refused login (an
   * expired JWT after a long downtime, a revoked agent) calls `onRefused` first, which renews the
   * JWT over HTTP or stops the agent; later refusals on a live link come through `onAuthError`.
   */
  static async connect(
    url: string,
    name: string,
    credentials: NatsAgentCredentials,
    options: {
      rpcTimeoutMs: number;
      log: Logger;
      onRefused: (reason: string) => Promise<void>;
      stopped: () => boolean;
    },
  ): Promise<NatsAgentWire> {
    for (let attempt = 0; ; attempt++) {
      try {
        const nc = await connect({
          ...natsConnectionOptions({ url, name, inboxPrefix: inboxPrefix(credentials.identity.agentId) }),
          authenticator: jwtAuthenticator(credentials.jwt, credentials.seed),
          ...(credentials.ca ? { tls: { ca: credentials.ca } } : {}),
          // The first connect fails fast so a refusal can be acted on; afterwards nats.js reconnects forever.
          waitOnFirstConnect: false,
        });
        return new NatsAgentWire(nc, options.rpcTimeoutMs, options.log);
      } catch (error) {
        if (options.stopped()) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        if (isAuthError(`${(error as { code?: string }).code ?? ''} ${reason}`))
          await options.onRefused(reason);
        else options.log.warn({ err: error }, 'cannot reach NATS yet; retrying');
        const delay = Math.min(1000 * 2 ** attempt, 30_000) * (0.8 + 0.4 * Math.random());
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  publishHeartbeat(identity: AgentIdentity, heartbeat: Heartbeat): void {
    this.nc.publish(Subjects.heartbeat(identity.environment, identity.agentId), json.encode(heartbeat), {
      headers: protocolHeaders(),
    });
  }

  async publishMetrics(identity: AgentIdentity, batch: PendingBatch): Promise<void> {
    // While reconnecting nats.js would drop the publish; fail now and let the reconnect resend it.
    if (!this.link.isConnected) throw new Error('not connected to NATS');
    await this.js.publish(Subjects.metrics(identity.environment, identity.agentId), batch.data, {
      msgID: metricsMsgId(identity.agentId, batch.seq),
      headers: protocolHeaders(),
      timeout: PUBLISH_ACK_TIMEOUT_MS,
    });
  }

  /** A fresh JWT for this agent's key, asked for on its own renew subject (only it may publish there). */
  renewJwt(identity: AgentIdentity): Promise<AgentJwt> {
    return this.rpc.request<AgentJwt>(Subjects.agentRenew(identity.environment, identity.agentId), {});
  }

  /** Fetch and acknowledge on `agents.<env>.<id>.config`, answered by provisioning. */
  configChannel(identity: AgentIdentity): ConfigChannel {
    const subject = Subjects.agentConfig(identity.environment, identity.agentId);
    return {
      fetchConfig: async () => {
        const reply = await this.rpc.request<AgentConfigDocument>(subject, { type: 'fetch' });
        if (!reply || !Number.isInteger(reply.version)) throw new Error('the config reply has no version');
        return reply;
      },
      ackConfig: async (ack) => {
        await this.rpc.request(subject, { type: 'ack', ...ack });
      },
    };
  }

  /** Reconnects so the server sees the JWT the authenticator now returns (the old one would expire). */
  async reauthenticate(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.reconnect();
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

  /** The server refused or dropped the agent's credentials (expired or revoked JWT). */
  onAuthError(handler: (reason: string) => void): void {
    this.authErrorHandler = handler;
  }

  isClosed(): boolean {
    return this.nc.isClosed();
  }

  async close(graceful: boolean): Promise<void> {
    if (this.nc.isClosed()) return;
    if (graceful) await this.nc.drain();
    else await this.nc.close();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect')
        this.log?.warn({ server: status.data }, 'disconnected from NATS; buffering metrics');
      if (status.type === 'reconnect')
        this.log?.info({ server: status.data }, 'reconnected to NATS; resending buffered metrics');
      if (status.type === 'error' && isAuthError(String(status.data)))
        this.authErrorHandler?.(String(status.data));
    }
  }
}

/** nats-server's words for a refused or withdrawn identity. */
function isAuthError(text: string): boolean {
  return /AUTHORIZATION_VIOLATION|authorization violation|authentication (expired|revoked)|user authentication/i.test(
    text,
  );
}

function protocolHeaders() {
  const h = natsHeaders();
  h.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
  return h;
}
