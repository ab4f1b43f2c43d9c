import { Algorithms, encodeAccount, encodeOperator, encodeUser } from 'nats-jwt';
import type { Account, Export, Import, OperatorLimits, User } from 'nats-jwt';
import { KeyPair } from 'nkeys.js';
import { Subjects } from '@app/contracts';
import { AGENT_USER_LIMITS, agentPermissions, BusPermissions } from './bus-permissions';

/**
 * The three accounts of the bus:
 * - SYS: nats-server's system account; the token service uses it to push AGENTS account updates.
 * - PLATFORM: every service, with JetStream (bounded: every stream must declare its max bytes).
 * - AGENTS: every agent, no JetStream of its own. It imports from PLATFORM exactly the agent subjects:
 *   heartbeat, metrics (a JetStream publish: the ack comes back through the import), renew and config
 *   as services, control as a stream. Nothing else of the platform is reachable from an agent.
 */
export const AccountNames = { system: 'SYS', platform: 'PLATFORM', agents: 'AGENTS' } as const;

/** JWT claims omit a limit as 0 ("none"), so every account states all of them. */
const UNLIMITED_CONNECTIONS: OperatorLimits = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};

export interface PlatformJetStreamLimits {
  /** Bytes of memory storage (ordered consumers, caches); -1 for the server's limit. */
  memoryBytes: number;
  /** Bytes of file storage; -1 for the server's limit. */
  diskBytes: number;
}

export const DEFAULT_PLATFORM_JETSTREAM: PlatformJetStreamLimits = { memoryBytes: 1024 ** 3, diskBytes: -1 };

/** What the platform lets agents reach, exported by PLATFORM and imported by AGENTS. */
const AGENT_FACING: { name: string; subject: string; type: 'service' | 'stream' }[] = [
  { name: 'agent-heartbeats', subject: Subjects.heartbeatWildcard, type: 'service' },
  { name: 'agent-metrics', subject: Subjects.metricsWildcard, type: 'service' },
  { name: 'agent-renewals', subject: Subjects.renewWildcard, type: 'service' },
  { name: 'agent-configs', subject: Subjects.configWildcard, type: 'service' },
  { name: 'agent-control', subject: Subjects.controlWildcard, type: 'stream' },
];

const seconds = (ms: number) => Math.floor(ms / 1000);

export function operatorJwt(operator: KeyPair, signingKey: KeyPair, systemAccount: string): Promise<string> {
  return encodeOperator('rca', operator, {
    system_account: systemAccount,
    signing_keys: [signingKey.getPublicKey()],
  });
}

export function systemAccountJwt(account: KeyPair | string, operatorSigningKey: KeyPair): Promise<string> {
  return encodeAccount(
    AccountNames.system,
    account as KeyPair,
    { limits: UNLIMITED_CONNECTIONS },
    {
      signer: operatorSigningKey,
    },
  );
}

export function platformAccountJwt(
  account: KeyPair | string,
  operatorSigningKey: KeyPair,
  jetstream: PlatformJetStreamLimits = DEFAULT_PLATFORM_JETSTREAM,
): Promise<string> {
  // Not named `exports`: that would shadow CommonJS's own in the compiled module.
  const agentFacing: Export[] = AGENT_FACING.map((e) => ({ ...e }));
  const claims: Partial<Account> = {
    exports: agentFacing,
    limits: {
      ...UNLIMITED_CONNECTIONS,
      mem_storage: jetstream.memoryBytes,
      disk_storage: jetstream.diskBytes,
      streams: -1,
      consumer: -1,
      // Every stream of the platform must say how large it may grow.
      max_bytes_required: true,
    },
  };
  return encodeAccount(AccountNames.platform, account as KeyPair, claims, { signer: operatorSigningKey });
}

export interface AgentsAccountState {
  platformAccount: string;
  /** The key the token service signs agent JWTs with. */
  signingKey: string;
  /** Agent user key → revoked at (seconds): JWTs issued up to then are refused and their connections closed. */
  revocations: Record<string, number>;
}

export function agentsAccountJwt(
  account: KeyPair | string,
  operatorSigningKey: KeyPair,
  state: AgentsAccountState,
): Promise<string> {
  const imports: Import[] = AGENT_FACING.map((e) => ({ ...e, account: state.platformAccount }));
  const claims: Partial<Account> = {
    imports,
    signing_keys: [state.signingKey],
    revocations: state.revocations,
    // No JetStream for agents: their metrics land in PLATFORM's stream through the import.
    limits: { ...UNLIMITED_CONNECTIONS, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 },
  };
  return encodeAccount(AccountNames.agents, account as KeyPair, claims, { signer: operatorSigningKey });
}

/** The JWT body of a user with these permissions (`resp` only for services that answer requests). */
export function userClaims(permissions: BusPermissions, limits: Partial<User> = {}): Partial<User> {
  // NATS reads an empty allow list as "no restriction": nothing allowed has to be said as deny-all.
  const only = (allow: string[]) => (allow.length ? { allow, deny: [] } : { allow: [], deny: ['>'] });
  return {
    pub: only(permissions.publish),
    sub: only(permissions.subscribe),
    ...(permissions.respond ? { resp: { max: 1, ttl: 0 } } : {}),
    ...limits,
  };
}

/**
 * Signs a user JWT. `user` may be only a public key (an agent's: its seed never leaves its host);
 * `account` is then the account's public key and `signer` its signing key.
 */
export function signUserJwt(options: {
  name: string;
  user: KeyPair | string;
  account: KeyPair | string;
  signer?: KeyPair;
  claims: Partial<User>;
  expiresAtMs?: number;
}): Promise<string> {
  return encodeUser(options.name, options.user as KeyPair, options.account as KeyPair, options.claims, {
    algorithm: Algorithms.v2,
    ...(options.signer ? { signer: options.signer } : {}),
    ...(options.expiresAtMs ? { exp: seconds(options.expiresAtMs) } : {}),
  });
}

/** The JWT body of one agent's user: its own subjects only, a few subscriptions, plain TCP/TLS. */
export function agentUserClaims(environment: string, agentId: string): Partial<User> {
  return userClaims(agentPermissions(environment, agentId), {
    ...AGENT_USER_LIMITS,
    allowed_connection_types: ['STANDARD'],
  });
}
