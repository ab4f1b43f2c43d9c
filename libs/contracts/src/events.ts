import { HealthReason } from './agent-health';

/** Facts published on the EVENTS stream as `events.<kind>`. */
export const EventKinds = {
  agentRegistered: 'agent.registered',
  agentOnline: 'agent.online',
  agentOffline: 'agent.offline',
  agentRevoked: 'agent.revoked',
  /** Alive but not well: collector errors, buffer filling, samples dropped or clock skew (data.reasons). */
  agentDegraded: 'agent.degraded',
  /** Degraded → online: every reason cleared. */
  agentRecovered: 'agent.recovered',
  /** The agent announced a clean stop (a last heartbeat with state `stopping`). */
  agentStopped: 'agent.stopped',
  /** The version in the agent's heartbeats changed (an upgrade, a downgrade, or the first one heard). */
  agentVersionChanged: 'agent.version_changed',
  /** An enrollment attempt was refused (bad/expired/revoked token…); under `agent.` so agent consumers see it. */
  agentEnrollmentFailed: 'agent.enrollment_failed',
  /** An agent's labels were edited over the API (one agent or a bulk relabel). */
  agentLabelsChanged: 'agent.labels_changed',
  /** A revoked agent's record was deleted (by hand or by the inactive-agent cleanup). */
  agentDeleted: 'agent.deleted',
  /** A revoked agent's host may enroll again (as a new agent). */
  agentReenrollAllowed: 'agent.reenroll_allowed',
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
  /** Set when the host enrolled again after its revoked agent was allowed to (`allow-reenroll`). */
  replaces?: string;
}
export interface AgentLabelsChangedData {
  labels: Record<string, string>;
  /** Nested under `labels` so the HTTP API's snake_casing (which spares `labels`) leaves the keys as they are. */
  previous: { labels: Record<string, string> };
  actor: string;
}
export interface AgentDeletedData {
  hostname: string;
  agentType: string;
  actor: string;
  /** `requested` (DELETE …/record) or `inactive` (the organisation's cleanup setting). */
  reason: 'requested' | 'inactive';
}
export interface AgentReenrollAllowedData {
  hostId: string;
  hostname: string;
  actor: string;
}
export interface AgentLivenessData {
  /** Last heartbeat seen, ms since epoch. */
  lastSeenAt: number;
  /** Offline only: how long the agent had been silent. */
  silentForMs?: number;
}
/** `agent.degraded`, `agent.recovered`, `agent.stopped`. */
export interface AgentHealthData extends AgentLivenessData {
  /** `agent.degraded` only: why, as the heartbeat that turned it showed. */
  reasons?: HealthReason[];
}
export interface AgentVersionData {
  /** The heartbeat that showed the new version, ms since epoch. */
  lastSeenAt: number;
  version: string;
  /** The version announced before; null the first time ingestion hears the agent. */
  previousVersion: string | null;
}
export interface TokenRevokedData {
  tokenId: string;
  kind: string;
  reason?: string;
  /** Who asked (`api_key:<id>`, `cli`, `system`): the audit log's actor. */
  actor?: string;
}
export interface TokenRotatedData {
  tokenId: string;
  replacedBy: string;
  graceUntil: string;
  actor?: string;
}
export interface TokenIssuedData {
  tokenId: string;
  kind: string;
  name: string | null;
  expiresAt: string | null;
  maxUses: number | null;
  /** Set when the token replaces a rotated one. */
  replaces?: string;
  actor?: string;
}
export interface OrganizationCreatedData {
  name: string;
  /** The organisation's first API key. */
  apiKeyId: string;
}
/** `agent.enrollment_failed`: organisation and environment are known when the token was; no agent id yet. */
export interface EnrollmentFailedData {
  /** The error code the enrollment was refused with (`TOKEN_REVOKED`, `TOKEN_EXPIRED`, …). */
  reason: string;
  agentType?: string;
  hostname?: string;
}
