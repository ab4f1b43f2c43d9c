import { Buckets, Consumers, EventKinds, inboxPrefix, Streams, Subjects } from '@app/contracts';

/**
 * Who may do what on the bus. Every platform process connects as one of these users of the PLATFORM
 * account; agents connect as their own user of the AGENTS account (`agentPermissions`). The tables
 * here are the only definition: creds are generated from them and docs/protocol.md shows them.
 */
export interface BusPermissions {
  publish: string[];
  subscribe: string[];
  /** May answer the requests it receives (NATS `allow_responses`): services only. */
  respond: boolean;
}

/**
 * Publishing to these identities' inboxes: how a service answers requests when it may not use
 * `allow_responses`. nats-server before 2.11 records every message delivered to a responder that
 * carries a reply subject — a JetStream delivery's ack subject included — for 2 minutes, and once more
 * than 4,096 are recorded it walks them all on each delivery (nats-io/nats-server 48c5cac, fixed in
 * 2.11.0). A responder pulling a busy stream then spends the server's CPU quadratically: measured
 * here, ingestion's metrics consumer fell to ~400 messages/s at 20,000 agents. So the services that
 * consume JetStream at fleet rates answer only their known requesters, by inbox.
 */
const repliesTo = (...identities: string[]) => identities.map((identity) => `${inboxPrefix(identity)}.>`);

/**
 * JetStream API subjects, per stream and consumer: nobody gets PURGE or MSG.DELETE, and STREAM.DELETE only
 * for ingestion's scratch stream.
 */
const JetStreamApi = {
  accountInfo: '$JS.API.INFO',
  streamInfo: (stream: string) => `$JS.API.STREAM.INFO.${stream}`,
  /** Read one stored message back by its sequence. */
  messageGet: (stream: string) => `$JS.API.STREAM.MSG.GET.${stream}`,
  /** A scratch stream the service creates and deletes again (the one STREAM.DELETE granted, by exact name). */
  scratchStream: (stream: string) => [`$JS.API.STREAM.CREATE.${stream}`, `$JS.API.STREAM.DELETE.${stream}`],
  /** Create or update a stream the service owns or creates when missing. */
  ownStream: (stream: string) => [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.UPDATE.${stream}`,
  ],
  /** Create, read and pull from one named durable consumer, and ack its messages. */
  durable: (stream: string, consumer: string) => [
    `$JS.API.CONSUMER.INFO.${stream}.${consumer}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${consumer}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${consumer}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${consumer}`,
    `$JS.API.CONSUMER.UPDATE.${stream}.${consumer}`,
    `$JS.API.CONSUMER.UPDATE.${stream}.${consumer}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    `$JS.ACK.${stream}.${consumer}.>`,
  ],
  /** A key-value bucket the service owns: create it, read (direct get) and write its keys. */
  kv: (bucket: string) => [
    `$JS.API.STREAM.INFO.KV_${bucket}`,
    `$JS.API.STREAM.CREATE.KV_${bucket}`,
    `$JS.API.STREAM.MSG.GET.KV_${bucket}`,
    `$JS.API.DIRECT.GET.KV_${bucket}`,
    `$JS.API.DIRECT.GET.KV_${bucket}.>`,
    `$KV.${bucket}.>`,
  ],
  /**
   * Ephemeral ordered consumers (read a stream from a point): create and read, never delete: they
   * vanish by themselves when idle, and a delete right would reach the durable consumers too.
   */
  ordered: (stream: string) => [
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
  ],
};

const event = (kind: string) => Subjects.event(kind);

/** Publishing events: the subject, plus reading/creating EVENTS (every publisher ensures it exists). */
const eventPublisher = (...kinds: string[]) => [
  ...kinds.map(event),
  JetStreamApi.accountInfo,
  ...JetStreamApi.ownStream(Streams.events),
];
/** Parking on DEAD_LETTER under `deadletter.<source>` for each source, plus creating the stream when missing. */
const deadLetterPublisher = (...sources: string[]) => [
  ...sources.map((source) => Subjects.deadLetter(source)),
  ...JetStreamApi.ownStream(Streams.deadLetter),
];
const requestsTo = (...patterns: string[]) => patterns;
const T = Subjects.tokens;
/** The token service as the customer API uses it: API keys and enrollment tokens, never agent JWTs. */
const TOKEN_API = [
  T.issue,
  T.verify,
  T.verifyMany,
  T.revoke,
  T.rotate,
  T.list,
  T.createOrganization,
  T.listOrganizations,
];

export const PLATFORM_IDENTITIES = [
  'tokens',
  'provisioning',
  'ingestion',
  'alerting',
  'gateway',
  'admin',
] as const;
export type PlatformIdentity = (typeof PLATFORM_IDENTITIES)[number];

/** The PLATFORM account's users. Each also subscribes to its own inbox (`_INBOX_<name>.>`). */
export const PlatformPermissions: Record<PlatformIdentity, BusPermissions> = {
  tokens: {
    publish: [
      ...eventPublisher(
        EventKinds.tokenIssued,
        EventKinds.tokenRevoked,
        EventKinds.tokenRotated,
        EventKinds.organizationCreated,
      ),
      ...deadLetterPublisher('outbox.tokens'),
    ],
    subscribe: ['tokens.>', Subjects.renewWildcard],
    respond: true,
  },
  provisioning: {
    publish: [
      // Enrollment tokens (provision), and agents' identities (enroll, re-enroll, revoke).
      ...requestsTo(T.issue, T.verify, T.agents.issue, T.agents.revoke, T.agents.lookup),
      Subjects.controlWildcard,
      ...eventPublisher(
        EventKinds.agentRegistered,
        EventKinds.agentRevoked,
        EventKinds.agentEnrollmentFailed,
        EventKinds.environmentCreated,
        EventKinds.agentLabelsChanged,
        EventKinds.agentDeleted,
        EventKinds.agentReenrollAllowed,
      ),
      ...JetStreamApi.durable(Streams.events, Consumers.agentStatus),
      ...JetStreamApi.durable(Streams.events, Consumers.tokenAudit),
      ...deadLetterPublisher(Consumers.agentStatus, Consumers.tokenAudit, 'outbox.provisioning'),
    ],
    // configWildcard: agents fetch and acknowledge their configuration (queue group, like every request).
    subscribe: ['provisioning.>', 'fleet.>', Subjects.enroll, Subjects.configWildcard],
    respond: true,
  },
  ingestion: {
    publish: [
      // fleet.agents.get: an agent's type, hostname and labels for the remote-write sink's series.
      ...requestsTo(Subjects.tokens.agents.lookup, Subjects.fleet.get),
      ...eventPublisher(
        EventKinds.agentOnline,
        EventKinds.agentOffline,
        EventKinds.agentDegraded,
        EventKinds.agentRecovered,
        EventKinds.agentStopped,
        EventKinds.agentVersionChanged,
      ),
      ...deadLetterPublisher('metrics', Consumers.remoteWrite, 'outbox.ingestion'),
      ...JetStreamApi.ownStream(Streams.metrics),
      ...JetStreamApi.durable(Streams.metrics, Consumers.metrics),
      ...JetStreamApi.durable(Streams.metrics, Consumers.remoteWrite),
      // Parks what JetStream gave up delivering (read back by the advisory's sequence); the metrics
      // audit reads AGENT_METRICS (headers only) to find batches the consumer skipped, and reads them back.
      JetStreamApi.messageGet(Streams.metrics),
      ...JetStreamApi.ordered(Streams.metrics),
      // Sizing AGENT_METRICS on a small disk: how much JetStream can still reserve.
      ...JetStreamApi.scratchStream(Streams.metricsSizeProbe),
      // Proof that its heartbeat subscription delivers (see Liveness in docs/protocol.md).
      Subjects.heartbeatProbe,
      // Answers to metrics.> requests: their only requesters (see repliesTo for why not allow_responses).
      ...repliesTo('gateway', 'admin'),
    ],
    // agent.revoked: the agent directory drops the revoked agent at once; agent.labels_changed and
    // agent.deleted: the remote-write sink drops what it cached of the agent.
    subscribe: [
      Subjects.heartbeatWildcard,
      'metrics.>',
      Subjects.event(EventKinds.agentRevoked),
      Subjects.event(EventKinds.agentLabelsChanged),
      Subjects.event(EventKinds.agentDeleted),
      Subjects.maxDeliveriesAdvisory(Streams.metrics, Consumers.metrics),
    ],
    respond: false,
  },
  alerting: {
    publish: [
      ...requestsTo(Subjects.fleet.get),
      JetStreamApi.accountInfo,
      ...JetStreamApi.ownStream(Streams.events),
      ...JetStreamApi.durable(Streams.events, Consumers.alerting),
      ...deadLetterPublisher(Consumers.alerting),
    ],
    subscribe: ['alerts.>'],
    respond: true,
  },
  gateway: {
    publish: [
      ...requestsTo(...TOKEN_API, T.agents.lookup, T.agents.renew),
      ...requestsTo('provisioning.>', 'fleet.>', 'alerts.>', 'metrics.>', Subjects.enroll),
      // The HTTP intake republishes what it verified on the agent's own subjects (config: asks for it).
      Subjects.heartbeatWildcard,
      Subjects.metricsWildcard,
      Subjects.configWildcard,
      JetStreamApi.accountInfo,
      JetStreamApi.streamInfo(Streams.events),
      ...JetStreamApi.ordered(Streams.events),
      // API rate-limit counters shared by every gateway instance.
      ...JetStreamApi.kv(Buckets.rateLimits),
    ],
    // Live events for the dashboard and token-cache invalidation.
    subscribe: [Subjects.eventsWildcard],
    respond: false,
  },
  /** `npm run admin` and `npm start`'s readiness probes: requests to the services, nothing else. */
  admin: {
    publish: requestsTo(...TOKEN_API, 'provisioning.>', 'fleet.>', 'alerts.>', 'metrics.>'),
    subscribe: [],
    respond: false,
  },
};

/** A user's full allow lists, with its inbox. */
export function withInbox(identity: string, permissions: BusPermissions): BusPermissions {
  return { ...permissions, subscribe: [...permissions.subscribe, `${inboxPrefix(identity)}.>`] };
}

/**
 * One agent's user in the AGENTS account: publish exactly its own heartbeat, metrics (the JetStream
 * ack comes back on its inbox), renew and config (fetch and acknowledge its configuration) subjects; subscribe to its own control subject and inbox.
 */
export function agentPermissions(environment: string, agentId: string): BusPermissions {
  return {
    publish: [
      Subjects.heartbeat(environment, agentId),
      Subjects.metrics(environment, agentId),
      Subjects.agentRenew(environment, agentId),
      Subjects.agentConfig(environment, agentId),
    ],
    subscribe: [Subjects.agentControl(environment, agentId), `${inboxPrefix(agentId)}.>`],
    respond: false,
  };
}

/**
 * Per-agent connection limits: a handful of subscriptions (inbox, control) and payloads no larger
 * than the biggest metrics batch the agent sends.
 */
export const AGENT_USER_LIMITS = { subs: 16, payload: 1024 * 1024, data: -1 } as const;

/** A user for an internal consumer (`npm run admin -- nats-user create`): exactly what was asked for. */
export function customPermissions(publish: string[], subscribe: string[]): BusPermissions {
  return { publish, subscribe, respond: false };
}

/**
 * The permission tables of docs/protocol.md, rendered from the definitions above (a spec keeps the
 * document and the code the same).
 */
export function permissionsMarkdown(): string {
  const list = (subjects: string[]) => (subjects.length ? subjects.map((s) => `\`${s}\``).join(', ') : '—');
  const rows = PLATFORM_IDENTITIES.map((identity) => {
    const p = withInbox(identity, PlatformPermissions[identity]);
    return `| \`${identity}\` | ${list(p.publish)} | ${list(p.subscribe)} | ${p.respond ? 'yes' : 'no'} |`;
  });
  const agent = agentPermissions('<env>', '<agentId>');
  return [
    '| user (PLATFORM account) | may publish | may subscribe | may answer requests it receives |',
    '|---|---|---|---|',
    ...rows,
    '',
    '| user (AGENTS account) | may publish | may subscribe | limits |',
    '|---|---|---|---|',
    `| each agent, \`<agentId>\` | ${list(agent.publish)} | ${list(agent.subscribe)} | ${AGENT_USER_LIMITS.subs} subscriptions, ${AGENT_USER_LIMITS.payload / 1024} KiB payloads, plain TCP/TLS only |`,
  ].join('\n');
}
