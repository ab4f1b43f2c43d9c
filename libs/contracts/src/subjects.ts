/** Every NATS subject, stream and header of protocol v1. Nothing else spells a subject. */
export const PROTOCOL_VERSION = 1;

export const Subjects = {
  /**
   * request/reply, platform-internal: the gateway's enrollment intake → provisioning. The enrollment token
   * travels in the `Headers.enrollmentToken` header. Agents themselves never reach it on the bus.
   */
  enroll: 'agents.enroll',
  heartbeat: (environment: string, agentId: string) => `agents.${environment}.${agentId}.heartbeat`,
  metrics: (environment: string, agentId: string) => `agents.${environment}.${agentId}.metrics`,
  /**
   * Core NATS, platform → one agent: `AgentControlMessage` (e.g. `{ "type": "revoked" }`). Published by
   * provisioning when it revokes the agent, just before NATS cuts the agent off; an agent that was offline
   * then learns it from its next connect (refused) and renewal (AGENT_REVOKED).
   */
  agentControl: (environment: string, agentId: string) => `agents.${environment}.${agentId}.control`,
  /**
   * request/reply, agent → tokens: a fresh user JWT for the key on record. Only the agent itself (its JWT
   * allows publishing exactly its own subjects) can send it, so the subject is the proof of identity.
   */
  agentRenew: (environment: string, agentId: string) => `agents.${environment}.${agentId}.renew`,
  /**
   * request/reply, agent → provisioning (queue group): `AgentConfigRequest` — fetch the current
   * configuration (at start and after every reconnect) or acknowledge one. Only the agent itself may
   * publish there, so the subject names who asks.
   */
  agentConfig: (environment: string, agentId: string) => `agents.${environment}.${agentId}.config`,
  heartbeatWildcard: 'agents.*.*.heartbeat',
  /**
   * Ingestion's own probe, published by every instance twice a second and received through the heartbeat
   * subscription like a heartbeat: an instance that receives none cannot hear agents either. `_probe`
   * is no valid environment name, so no agent subject can be mistaken for it.
   */
  heartbeatProbe: 'agents._probe.ingestion.heartbeat',
  metricsWildcard: 'agents.*.*.metrics',
  controlWildcard: 'agents.*.*.control',
  renewWildcard: 'agents.*.*.renew',
  configWildcard: 'agents.*.*.config',
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
    /** Agent identities: a public key on record per agent, and the user JWTs signed for it. */
    agents: {
      issue: 'tokens.agents.issue',
      renew: 'tokens.agents.renew',
      revoke: 'tokens.agents.revoke',
      lookup: 'tokens.agents.lookup',
    },
  },
  provisioning: {
    types: 'provisioning.types',
    provision: 'provisioning.provision',
    environments: 'provisioning.environments.list',
    /**
     * The environment, created visibly (listed, audited, `environment.created`) when the organisation has
     * none by that name: every way of issuing an enrollment token goes through it first.
     */
    ensureEnvironment: 'provisioning.environments.ensure',
  },
  fleet: {
    list: 'fleet.agents.list',
    /** Agents counted by environment × type × status in one grouped query (`AgentCounts`). */
    counts: 'fleet.agents.counts',
    get: 'fleet.agents.get',
    revoke: 'fleet.agents.revoke',
    audit: 'fleet.audit.list',
    /** Lifecycle (`UpdateAgentLabelsRequest`, `AgentRefRequest`, `BulkAgentsRequest`). */
    updateLabels: 'fleet.agents.labels',
    /** Hard delete of a revoked agent's record. */
    delete: 'fleet.agents.delete',
    /** A revoked agent's host may enroll once more, as a new agent. */
    allowReenroll: 'fleet.agents.allow-reenroll',
    bulk: 'fleet.agents.bulk',
    getSettings: 'fleet.settings.get',
    putSettings: 'fleet.settings.put',
    /** Remote configuration (AgentConfigView, EnvironmentConfigView): see agent-config.ts. */
    configs: {
      environmentGet: 'fleet.configs.environment.get',
      environmentSave: 'fleet.configs.environment.save',
      agentGet: 'fleet.configs.agent.get',
      agentSave: 'fleet.configs.agent.save',
      statuses: 'fleet.configs.statuses',
    },
    /** Agent versions across the organisation's fleet, who is behind, and how to upgrade. */
    versions: 'fleet.versions',
  },
  alerts: {
    listRules: 'alerts.rules.list',
    createRule: 'alerts.rules.create',
    updateRule: 'alerts.rules.update',
    deleteRule: 'alerts.rules.delete',
    listChannels: 'alerts.channels.list',
    createChannel: 'alerts.channels.create',
    updateChannel: 'alerts.channels.update',
    deleteChannel: 'alerts.channels.delete',
    list: 'alerts.list',
    /** A person takes an alert on: it keeps firing, marked with who and when. */
    acknowledge: 'alerts.acknowledge',
    /** Resolved by hand (firing → resolved, notifying; pending → cancelled). */
    resolve: 'alerts.resolve',
    /** One signed test notification to a channel, sent now; the answer says how it went. */
    testChannel: 'alerts.channels.test',
    listDeliveries: 'alerts.deliveries.list',
  },
  /** The alerting service's durable consumer of EVENTS sees every agent fact. */
  agentEventsWildcard: 'events.agent.>',
  metricsQuery: 'metrics.query',
  ingestionStats: 'metrics.ingestion.stats',
  /** Ingestion's last-heard time of a page of agents (the registry only records status changes). */
  agentsLastSeen: 'metrics.agents.last-seen',
  /** The metric names, units and tags one agent has sent lately (metric discovery). */
  metricsCatalog: 'metrics.agents.catalog',
  /** The organisation's agents ranked by one metric over a window. */
  metricsTop: 'metrics.top',
} as const;

export const Streams = {
  metrics: 'AGENT_METRICS',
  /** Ingestion's scratch stream, created and deleted again to learn what JetStream can reserve. */
  metricsSizeProbe: 'AGENT_METRICS_SIZE_PROBE',
  events: 'EVENTS',
  deadLetter: 'DEAD_LETTER',
} as const;

/** Durable JetStream consumers, each owned by one service (bus permissions are granted per name). */
/** NATS key-value buckets (streams KV_<name>). */
export const Buckets = {
  /** The gateway's API rate-limit counters, shared by its instances. */
  rateLimits: 'RATE_LIMITS',
} as const;

export const Consumers = {
  /** Ingestion's pull consumer on AGENT_METRICS. */
  metrics: 'ingestion',
  /** Ingestion's second pull consumer on AGENT_METRICS, feeding a Prometheus remote-write receiver; also its dead-letter source. */
  remoteWrite: 'remote-write',
  /** Alerting's consumer of `events.agent.>` on EVENTS. */
  alerting: 'alerting',
  /** Provisioning's consumer of liveness events on EVENTS. */
  agentStatus: 'provisioning-agent-status',
  /** Provisioning's consumer of token events on EVENTS: the audit log's token entries. */
  tokenAudit: 'provisioning-token-audit',
} as const;

/**
 * Every connection's reply subjects start with its identity's prefix (`_INBOX_<name>`), and a user may
 * subscribe only to its own: nobody reads another's replies.
 */
export const inboxPrefix = (identity: string) => `_INBOX_${identity}`;

/** NATS header names. Header lookups in nats.js are case-insensitive on read but we write them exactly. */
export const Headers = {
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

/** What an agent publishes on its own subjects. */
const AGENT_SUBJECT_KINDS = ['heartbeat', 'metrics', 'renew', 'config'] as const;
export type AgentSubjectKind = (typeof AGENT_SUBJECT_KINDS)[number];

/** Parses `agents.<env>.<agentId>.<kind>`; returns null for anything else. */
export function parseAgentSubject(
  subject: string,
): { environment: string; agentId: string; kind: AgentSubjectKind } | null {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'agents') return null;
  const [, environment, agentId, kind] = parts;
  if (!AGENT_SUBJECT_KINDS.includes(kind as AgentSubjectKind)) return null;
  if (!ENVIRONMENT_NAME_PATTERN.test(environment) || !AGENT_ID_PATTERN.test(agentId)) return null;
  return { environment, agentId, kind: kind as AgentSubjectKind };
}
