import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { fromPublic, KeyPair } from 'nkeys.js';
import { AGENT_ID_PATTERN, ENVIRONMENT_NAME_PATTERN } from './subjects';

/**
 * An agent's identity is an nkey pair it generates on its host. Only the public key (`U…`, 56 base32
 * characters) ever leaves the host; the platform signs short-lived NATS user JWTs for it, and every
 * HTTP request of the agent is signed with it. Signatures are nkey (Ed25519) signatures, base64url,
 * over the statements below: each names what it is for, so one can never be replayed as another.
 */
export const NKEY_USER_PUBLIC_KEY_PATTERN = /^U[A-Z2-7]{55}$/;
/** Ed25519 signatures are 64 bytes: 86 base64url characters without padding. */
export const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;
/** A signed statement is accepted this long either side of the server's clock (replays only renew the same key). */
export const SIGNATURE_MAX_SKEW_MS = 5 * 60_000;

export const AgentStatements = {
  /** Proof of possession at enrollment (like a CSR's self-signature): signed by the new key. */
  enroll: (publicKey: string, hostId: string) => `rca-enroll-v1\n${publicKey}\n${hostId}`,
  /**
   * Re-enrollment of a known host keeps its agent record only with this, signed by the key on record:
   * "agent <id> hands over to <new key>". Without it the host becomes a new agent.
   */
  handover: (agentId: string, newPublicKey: string) => `rca-handover-v1\n${agentId}\n${newPublicKey}`,
  /** A fresh JWT over HTTP (the old one expired while the agent was down). */
  renew: (agentId: string, publicKey: string, signedAt: number) =>
    `rca-renew-v1\n${agentId}\n${publicKey}\n${signedAt}`,
  /**
   * Every signed HTTP intake request of an agent: method, intake route (`heartbeat`, `metrics`: the
   * last path segment, so a proxy's path prefix does not matter), time and the body's SHA-256 (hex).
   */
  request: (method: string, route: string, signedAt: number, bodySha256: string) =>
    `rca-request-v1\n${method.toUpperCase()} ${route}\n${signedAt}\n${bodySha256}`,
} as const;

/** Signs a statement with the agent's key: base64url of the Ed25519 signature over its UTF-8 bytes. */
export function signStatement(key: KeyPair, statement: string): string {
  return Buffer.from(key.sign(Buffer.from(statement, 'utf8'))).toString('base64url');
}

/** True when `signature` is `publicKey`'s signature of `statement`; false for anything malformed. */
export function verifyStatement(publicKey: string, statement: string, signature: string): boolean {
  if (!NKEY_USER_PUBLIC_KEY_PATTERN.test(publicKey) || !SIGNATURE_PATTERN.test(signature)) return false;
  try {
    return fromPublic(publicKey).verify(Buffer.from(statement, 'utf8'), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** HTTP header of a signed intake request: `agent=<id>,t=<ms>,sig=<base64url>`. */
export const AGENT_SIGNATURE_HEADER = 'rca-agent-signature';

export function formatAgentSignatureHeader(agentId: string, signedAt: number, signature: string): string {
  return `agent=${agentId},t=${signedAt},sig=${signature}`;
}

/** Parses the header; null when any part is missing or malformed. */
export function parseAgentSignatureHeader(
  value: string | undefined,
): { agentId: string; signedAt: number; signature: string } | null {
  if (!value || value.length > 400) return null;
  const parts = new Map<string, string>();
  for (const piece of value.split(',')) {
    const at = piece.indexOf('=');
    if (at > 0) parts.set(piece.slice(0, at).trim(), piece.slice(at + 1).trim());
  }
  const agentId = parts.get('agent');
  const signedAt = Number(parts.get('t'));
  const signature = parts.get('sig');
  if (!agentId || !AGENT_ID_PATTERN.test(agentId)) return null;
  if (!Number.isSafeInteger(signedAt) || signedAt <= 0) return null;
  if (!signature || !SIGNATURE_PATTERN.test(signature)) return null;
  return { agentId, signedAt, signature };
}

/** The previous key's consent to a re-enrollment (see `AgentStatements.handover`). */
export class HandoverProof {
  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  @Matches(SIGNATURE_PATTERN, { message: 'must be a base64url Ed25519 signature' })
  signature!: string;
}

/** What the agent adds to its enrollment request: its public key and proof that it holds the key. */
export class AgentKeyClaim {
  @Matches(NKEY_USER_PUBLIC_KEY_PATTERN, { message: 'must be an nkey user public key (U…)' })
  publicKey!: string;

  /** `AgentStatements.enroll(publicKey, host.hostId)` signed with the key. */
  @Matches(SIGNATURE_PATTERN, { message: 'must be a base64url Ed25519 signature' })
  proof!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => HandoverProof)
  handover?: HandoverProof;
}

/** A NATS user JWT signed for an agent's key, and when it stops working. */
export interface AgentJwt {
  jwt: string;
  /** ISO time; the agent renews well before it. */
  expiresAt: string;
}

/** `POST /api/v1/intake/renew` → `tokens.agents.renew`: a JWT for the key on record, proven by a signature. */
export class RenewAgentJwtRequest {
  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  @Matches(NKEY_USER_PUBLIC_KEY_PATTERN)
  publicKey!: string;

  /** ms since epoch, within SIGNATURE_MAX_SKEW_MS of the platform's clock. */
  @IsInt()
  @Min(1)
  signedAt!: number;

  /** `AgentStatements.renew(agentId, publicKey, signedAt)` signed with the key. */
  @Matches(SIGNATURE_PATTERN)
  signature!: string;
}

/** provisioning → tokens at enrollment: record this key for the agent and sign its first JWT. */
export class IssueAgentIdentityRequest {
  @IsString()
  @MaxLength(64)
  organizationId!: string;

  @Matches(ENVIRONMENT_NAME_PATTERN)
  environment!: string;

  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  @Matches(NKEY_USER_PUBLIC_KEY_PATTERN)
  publicKey!: string;

  @IsString()
  @MaxLength(255)
  name!: string;

  @IsString()
  @MaxLength(200)
  actor!: string;
}

export interface IssuedAgentIdentity extends AgentJwt {
  identityId: string;
}

/** Revokes every identity of the agent (or one key): its connections are closed and its JWTs refused. */
export class RevokeAgentIdentityRequest {
  @IsString()
  @MaxLength(64)
  organizationId!: string;

  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  /** Only this key (a re-enrollment replacing it); all of the agent's keys when absent. */
  @IsOptional()
  @Matches(NKEY_USER_PUBLIC_KEY_PATTERN)
  publicKey?: string;

  @IsString()
  @MaxLength(200)
  actor!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export interface RevokeAgentIdentityReply {
  revoked: number;
}

export const AGENT_LOOKUP_MAX_ITEMS = 500;

/** Who an agent is (organisation, environment, key), for ingestion and the intake; many at once. */
export class LookupAgentsRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(AGENT_LOOKUP_MAX_ITEMS)
  @Matches(AGENT_ID_PATTERN, { each: true })
  agentIds!: string[];
}

export interface AgentIdentityRecord {
  agentId: string;
  organizationId: string;
  environment: string;
  /** The key currently allowed to speak for the agent. */
  publicKey: string;
  revoked: boolean;
}

/** `agents[i]` answers `agentIds[i]`; null for an agent the token service never issued an identity to. */
export interface LookupAgentsReply {
  agents: (AgentIdentityRecord | null)[];
}
