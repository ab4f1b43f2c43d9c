import { KeyPair } from 'nkeys.js';
import { Logger } from 'pino';
import { AgentConfigDocument, AgentControlMessage, ErrorCodes, DomainError, Heartbeat } from '@app/contracts';
import type { ConfigChannel } from '../remote-config/remote-config';
import { AgentIdentity, AgentWire } from './agent-wire';
import { PendingBatch } from './metrics-buffer';
import { PlatformClient } from './platform-client';

/**
 * The agent over the gateway's HTTP intake (`RCA_TRANSPORT=http`), for hosts that cannot reach NATS.
 * Every request is signed with the agent's key. There is no channel from the platform to the agent,
 * so revocation is learnt from the replies: AGENT_REVOKED on a heartbeat or a batch is handed to the
 * control handler as `revoked`. There is no connection either: every request is a new attempt, so
 * no reconnect signal exists and buffered batches go out with the next collection.
 */
export class HttpAgentWire implements AgentWire {
  private closed = false;
  private control?: (message: AgentControlMessage) => void;
  /** Heartbeats still on their way, so a graceful close can let the final "stopping" one arrive. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly client: PlatformClient,
    private readonly key: KeyPair,
    private readonly log: Logger,
  ) {}

  publishHeartbeat(identity: AgentIdentity, heartbeat: Heartbeat): void {
    const sent = this.post('heartbeat', identity, JSON.stringify(heartbeat))
      .catch((error: unknown) => this.log.debug({ err: error }, 'heartbeat not delivered'))
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  async publishMetrics(identity: AgentIdentity, batch: PendingBatch): Promise<void> {
    await this.post('metrics', identity, batch.data);
  }

  onControl(_identity: AgentIdentity, handler: (message: AgentControlMessage) => void): void {
    this.control = handler;
  }

  /**
   * Fetch and acknowledge through the intake (`POST /api/v1/intake/config`): with no push over HTTP,
   * the agent fetches at start and then every few minutes (BaseAgent).
   */
  configChannel(identity: AgentIdentity): ConfigChannel {
    return {
      fetchConfig: async () => {
        const reply = await this.post('config', identity, JSON.stringify({ type: 'fetch' }));
        const document = reply as AgentConfigDocument | undefined;
        if (!document || !Number.isInteger(document.version))
          throw new Error('the config reply has no version');
        return document;
      },
      ackConfig: async (ack) => {
        await this.post('config', identity, JSON.stringify({ type: 'ack', ...ack }));
      },
    };
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

  private async post(
    route: 'heartbeat' | 'metrics' | 'config',
    identity: AgentIdentity,
    body: string | Uint8Array,
  ) {
    try {
      return await this.client.signedPost(route, identity.agentId, this.key, body);
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCodes.AGENT_REVOKED)
        this.control?.({ type: 'revoked', reason: error.message });
      throw error;
    }
  }
}
