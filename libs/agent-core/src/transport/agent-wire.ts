import { AgentControlMessage, Heartbeat } from '@app/contracts';
import type { ConfigChannel } from '../remote-config/remote-config';
import { PendingBatch } from './metrics-buffer';

/** The agent as the platform knows it; on NATS these name its own subjects. */
export interface AgentIdentity {
  agentId: string;
  environment: string;
}

/**
 * How the agent's heartbeats and metrics reach the platform: NATS (the default) or the gateway's
 * HTTP intake (`RCA_TRANSPORT=http`). BaseAgent speaks only this interface.
 */
export interface AgentWire {
  /** Fire-and-forget: a lost heartbeat is replaced by the next one. */
  publishHeartbeat(identity: AgentIdentity, heartbeat: Heartbeat): void;
  /** Resolves once the platform stored the batch; rejects otherwise (the caller keeps it buffered). */
  publishMetrics(identity: AgentIdentity, batch: PendingBatch): Promise<void>;
  /** Messages from the platform to this agent (`{ type: 'revoked' }`). */
  onControl(
    identity: AgentIdentity,
    handler: (message: AgentControlMessage) => void,
    onInvalid: (error: unknown) => void,
  ): void;
  /**
   * Fetching and acknowledging remote configuration, on the agent's own config subject; absent on a
   * wire that has no way to ask (the HTTP intake, for now).
   */
  configChannel?(identity: AgentIdentity): ConfigChannel;
  /** Called when a lost link is back, so buffered batches go out at once. */
  onReconnect(handler: () => void): void;
  isClosed(): boolean;
  /** Graceful: deliver what is pending first (bounded by the caller). */
  close(graceful: boolean): Promise<void>;
}
