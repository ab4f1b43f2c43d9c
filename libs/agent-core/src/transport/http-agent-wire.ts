import { Logger } from 'pino';
import {
  AgentControlMessage,
  DomainError,
  EnrollReply,
  EnrollRequest,
  ErrorCodes,
  Heartbeat,
  PROTOCOL_VERSION,
  Headers,
} from '@app/contracts';
import { AgentIdentity, AgentWire } from './agent-wire';
import { PendingBatch } from './metrics-buffer';

/** The gateway's agent intake (apps/gateway/src/intake): same bodies as on NATS, Bearer token. */
const INTAKE_PATH = '/api/v1/intake';

/**
 * The agent over the gateway's HTTP intake (`RCA_TRANSPORT=http`), for hosts that cannot reach NATS.
 * There is no channel from the platform to the agent, so revocation is learnt from the replies: a
 * 401 TOKEN_REVOKED on a heartbeat or a batch is handed to the control handler as `revoked`.
 * There is no connection either: every request is a new attempt, so no reconnect signal exists and
 * buffered batches go out with the next collection.
 */
export class HttpAgentWire implements AgentWire {
  private closed = false;
  private control?: (message: AgentControlMessage) => void;
  /** Heartbeats still on their way, so a graceful close can let the final "stopping" one arrive. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly platformUrl: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  enroll(token: string, request: EnrollRequest): Promise<EnrollReply> {
    return this.post<EnrollReply>('enroll', token, JSON.stringify(request));
  }

  publishHeartbeat(identity: AgentIdentity, heartbeat: Heartbeat): void {
    const sent = this.post('heartbeat', identity.credential, JSON.stringify(heartbeat))
      .catch((error: unknown) => this.log.debug({ err: error }, 'heartbeat not delivered'))
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  async publishMetrics(identity: AgentIdentity, batch: PendingBatch): Promise<void> {
    await this.post('metrics', identity.credential, batch.data);
  }

  onControl(_identity: AgentIdentity, handler: (message: AgentControlMessage) => void): void {
    this.control = handler;
  }

  onReconnect(): void {
    // No connection to lose; see the class comment.
  }

  isClosed(): boolean {
    return this.closed;
  }

  async close(graceful: boolean): Promise<void> {
    this.closed = true;
    if (graceful) await Promise.allSettled([...this.inFlight]);
  }

  private async post<T>(
    route: 'enroll' | 'heartbeat' | 'metrics',
    bearer: string,
    body: string | Uint8Array,
  ): Promise<T> {
    const url = `${this.platformUrl.replace(/\/+$/, '')}${INTAKE_PATH}/${route}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/json',
          [Headers.protocolVersion]: String(PROTOCOL_VERSION),
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new DomainError(ErrorCodes.UNAVAILABLE, `POST ${url}: ${reason}`);
    }
    const text = await response.text();
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : undefined;
    } catch {
      payload = { message: text.slice(0, 200) };
    }
    if (response.ok) return payload as T;
    const error = DomainError.fromPayload(payload);
    // A gateway or proxy error without our body is a transport problem: retry, do not give up.
    const failure =
      error.code === ErrorCodes.INTERNAL && response.status >= 500
        ? new DomainError(ErrorCodes.UNAVAILABLE, `POST ${url}: HTTP ${response.status}`)
        : error;
    if (route !== 'enroll' && failure.code === ErrorCodes.TOKEN_REVOKED)
      this.control?.({ type: 'revoked', reason: failure.message });
    throw failure;
  }
}
