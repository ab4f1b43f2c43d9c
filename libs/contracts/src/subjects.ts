/** Every NATS subject, stream and header of protocol v1. Nothing else spells a subject. */
export const PROTOCOL_VERSION = 1;

export const Subjects = {
  /** request/reply: agent → provisioning. Enrollment token travels in the `Headers.enrollmentToken` header. */
  enroll: 'agents.enroll',
  heartbeat: (environment: string, agentId: string) => `agents.${environment}.${agentId}.heartbeat`,
  metrics: (environment: string, agentId: string) => `agents.${environment}.${agentId}.metrics`,
  /**
   * Core NATS, platform → one agent: `AgentControlMessage` (e.g. `{ "type": "revoked" }`). Published by
   * provisioning when it revokes the agent, and by ingestion whenever it refuses a message because the
   * credential is revoked, so an agent that was offline during the revocation learns it at its next heartbeat.
   */
  agentControl: (environment: string, agentId: string) => `agents.${environment}.${agentId}.control`,
  heartbeatWildcard: 'agents.*.*.heartbeat',
  /**
   * Ingestion's own probe, published by every instance twice a second and received through the heartbeat
   * subscription like a heartbeat: an instance that receives none cannot hear agents either. `_probe`
   * is no valid environment name, so no agent subject can be mistaken for it.
   */
  heartbeatProbe: 'agents._probe.ingestion.heartbeat',
  metricsWildcard: 'agents.*.*.metrics',
  /** Events are facts published to the EVENTS stream: `events.agent.offline`, `events.token.revoked`, … */
  event: (kind: string) => `events.${kind}`,
  eventsWildcard: 'events.>',
  /** Parked messages, one subject per source: `deadletter.metrics`. */
  deadLetter: (source: string) => `deadletter.${source}`,
  deadLetterWildcard: 'deadletter.>',
  /**
   * JetStream's advisory, published when it gives up redelivering a message to a consumer (its
   * `max_deliver` is spent): the body names the stream sequence (`stream_seq`).
   */
  maxDeliveriesAdvisory: (stream: string, consumer: string) =>
    `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`,

  tokens: {
    issue: 'tokens.issue',
    verify: 'tokens.verify',
    /** Many `tokens.verify` in one request (caches coalesce their misses): `VerifyManyTokensRequest`. */
    verifyMany: 'tokens.verifyMany',
    revoke: 'tokens.revoke',
    rotate: 'tokens.rotate',
    list: 'tokens.list',
    createOrganization: 'tokens.organizations.create',
    listOrganizations: 'tokens.organizations.list',
  },
  provisioning: {
    types: 'provisioning.types',
    provision: 'provisioning.provision',
    environments: 'provisioning.environments.list',
  },
  fleet: {
    list: 'fleet.agents.list',
    get: 'fleet.agents.get',
    revoke: 'fleet.agents.revoke',
    audit: 'fleet.audit.list',
  },
  alerts: {
    listRules: 'alerts.rules.list',
    createRule: 'alerts.rules.create',
    updateRule: 'alerts.rules.update',
    deleteRule: 'alerts.rules.delete',
    listChannels: 'alerts.channels.list',
    createChannel: 'alerts.channels.create',
    deleteChannel: 'alerts.channels.delete',
    list: 'alerts.list',
    listDeliveries: 'alerts.deliveries.list',
  },
  /** The alerting service's durable consumer of EVENTS sees every agent fact. */
  agentEventsWildcard: 'events.agent.>',
  metricsQuery: 'metrics.query',
  ingestionStats: 'metrics.ingestion.stats',
  /** Ingestion's last-heard time of a page of agents (the registry only records status changes). */
  agentsLastSeen: 'metrics.agents.last-seen',
} as const;

export const Streams = {
  metrics: 'AGENT_METRICS',
  events: 'EVENTS',
  deadLetter: 'DEAD_LETTER',
} as const;

/** NATS header names. Header lookups in nats.js are case-insensitive on read but we write them exactly. */
export const Headers = {
  /** Per-agent credential (`rca_ac_…`) on every heartbeat / metrics message. */
  credential: 'Rca-Credential',
  /** Environment enrollment token (`rca_et_…`) on `agents.enroll`. */
  enrollmentToken: 'Rca-Enrollment-Token',
  /** JetStream de-duplication id: `<agentId>:<seq>`. */
  msgId: 'Nats-Msg-Id',
  protocolVersion: 'Rca-Protocol',
  /** Why a message was parked on the dead-letter stream. */
  deadLetterReason: 'Rca-Dead-Letter-Reason',
  deadLetterSubject: 'Rca-Dead-Letter-Subject',
  /** Human-readable detail of the reason (e.g. which field failed validation). */
  deadLetterDetail: 'Rca-Dead-Letter-Detail',
} as const;

/** `<agentId>:<seq>` — stable across resends so JetStream drops duplicates. */
export const metricsMsgId = (agentId: string, seq: number) => `${agentId}:${seq}`;

/** Environment names and agent ids become NATS subject tokens: no dots, wildcards or spaces. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses `agents.<env>.<agentId>.<kind>`; returns null for anything else. */
export function parseAgentSubject(
  subject: string,
): { environment: string; agentId: string; kind: 'heartbeat' | 'metrics' } | null {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'agents') return null;
  const [, environment, agentId, kind] = parts;
  if (kind !== 'heartbeat' && kind !== 'metrics') return null;
  if (!ENVIRONMENT_NAME_PATTERN.test(environment) || !AGENT_ID_PATTERN.test(agentId)) return null;
  return { environment, agentId, kind };
}
