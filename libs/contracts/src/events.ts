/** Facts published on the EVENTS stream as `events.<kind>`. */
export const EventKinds = {
  agentRegistered: 'agent.registered',
  agentOnline: 'agent.online',
  agentOffline: 'agent.offline',
  agentRevoked: 'agent.revoked',
  environmentCreated: 'environment.created',
  tokenIssued: 'token.issued',
  tokenRevoked: 'token.revoked',
  tokenRotated: 'token.rotated',
  organizationCreated: 'organization.created',
} as const;
export type EventKind = (typeof EventKinds)[keyof typeof EventKinds];

export interface EventEnvelope<T = Record<string, unknown>> {
  /** Unique id; also the JetStream `Nats-Msg-Id`, so a republished event is stored once. */
  id: string;
  kind: EventKind;
  occurredAt: string;
  organizationId: string;
  environment?: string | null;
  agentId?: string | null;
  data: T;
}

export interface AgentRegisteredData {
  agentType: string;
  hostname: string;
  os: string;
  reenrolled: boolean;
}
export interface AgentLivenessData {
  /** Last heartbeat seen, ms since epoch. */
  lastSeenAt: number;
  /** Offline only: how long the agent had been silent. */
  silentForMs?: number;
}
export interface TokenRevokedData {
  tokenId: string;
  kind: string;
  reason?: string;
}
export interface TokenRotatedData {
  tokenId: string;
  replacedBy: string;
  graceUntil: string;
}
