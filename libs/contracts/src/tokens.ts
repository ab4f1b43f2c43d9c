import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { RpcErrorPayload } from './errors';
import { ENVIRONMENT_NAME_PATTERN } from './subjects';

export const TokenKinds = ['api_key', 'enrollment'] as const;
export type TokenKind = (typeof TokenKinds)[number];

/**
 * Recognisable prefixes, so secret scanners can find leaked tokens: `rca_ak_…`, `rca_et_…`. (Agents hold no
 * token after enrollment: their identity is a key of their own, see agent-identity.ts.)
 */
export const TOKEN_PREFIXES: Record<TokenKind, string> = {
  api_key: 'rca_ak_',
  enrollment: 'rca_et_',
};

/**
 * What an API key may do, each including the ones before it: `read` (every GET), `provision` (also
 * provisioning agents, enrollment tokens, revoking and labelling agents, acknowledging alerts), `admin`
 * (also API keys and alerting configuration). Keys made before scopes existed are `admin`.
 */
export const ApiKeyScopes = ['read', 'provision', 'admin'] as const;
export type ApiKeyScope = (typeof ApiKeyScopes)[number];

/** Whether a key of scope `held` may do what needs `needed`. */
export function scopeAllows(held: ApiKeyScope, needed: ApiKeyScope): boolean {
  return ApiKeyScopes.indexOf(held) >= ApiKeyScopes.indexOf(needed);
}

export const ORGANIZATION_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class IssueTokenRequest {
  @IsIn(TokenKinds as unknown as string[])
  kind!: TokenKind;

  @IsString()
  @MinLength(1)
  organizationId!: string;

  /** Required for enrollment tokens. */
  @ValidateIf((o: IssueTokenRequest) => o.kind !== 'api_key' || o.environment !== undefined)
  @Matches(ENVIRONMENT_NAME_PATTERN, {
    message: 'environment must be lowercase letters, digits and dashes (max 63)',
  })
  environment?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  /** API keys only (default `admin`). */
  @IsOptional()
  @IsIn(ApiKeyScopes as unknown as string[])
  scope?: ApiKeyScope;

  /** Enrollment tokens only: how many enrollments it may perform. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxUses?: number;

  /** Who asked (an API key id, `system`, `cli`) — goes to the audit trail and events. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;
}

/** Token metadata; never carries the secret or its hash. */
export interface TokenMetadata {
  id: string;
  kind: TokenKind;
  organizationId: string;
  environment: string | null;
  name: string | null;
  /** The first characters of the secret (prefix + 4), enough to recognise it in a list. */
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  maxUses: number | null;
  uses: number;
  lastUsedAt: string | null;
  /** Set on a rotated token: it stays valid until this instant. */
  graceUntil: string | null;
  replacedBy: string | null;
  /** API keys: what the key may do; null for enrollment tokens. */
  scope: ApiKeyScope | null;
}

/** The one response that carries a plaintext secret. */
export interface IssuedToken extends TokenMetadata {
  secret: string;
}

/** What `tokens.rotate` returns: the new token (with its secret, once) and the old one, now in its grace period. */
export interface RotatedToken {
  token: IssuedToken;
  previous: TokenMetadata;
}

/** One token to check: the item of `tokens.verifyMany`, and the core of `tokens.verify`. */
export class TokenToVerify {
  @IsString()
  @MaxLength(200)
  token!: string;

  @IsOptional()
  @IsIn(TokenKinds as unknown as string[])
  expectedKind?: TokenKind;
}

export class VerifyTokenRequest extends TokenToVerify {
  /** Counts one use against `maxUses` (enrollment); verification alone does not. */
  @IsOptional()
  @IsBoolean()
  consume?: boolean;
}

export interface VerifiedToken {
  tokenId: string;
  kind: TokenKind;
  organizationId: string;
  environment: string | null;
  expiresAt: string | null;
  /** API keys: what the key may do (absent from an older token service: treat as `admin`). */
  scope?: ApiKeyScope | null;
}

/**
 * Most tokens one `tokens.verifyMany` carries: one `IN (…)` lookup stays far below SQLite's and
 * PostgreSQL's bound-parameter limits, and the reply (≈ 250 B per answer) far below NATS's 1 MiB payload.
 */
export const VERIFY_MANY_MAX_ITEMS = 500;

/** `tokens.verifyMany`: up to VERIFY_MANY_MAX_ITEMS tokens checked with one lookup; never counts a use. */
export class VerifyManyTokensRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(VERIFY_MANY_MAX_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => TokenToVerify)
  items!: TokenToVerify[];
}

/** The answer `tokens.verify` would give for one token: its value, or its error reply. */
export type VerifyOutcome =
  { ok: true; value: VerifiedToken } | { ok: false; error: Pick<RpcErrorPayload, 'code' | 'message'> };

/** `results[i]` answers `items[i]`. */
export interface VerifyManyTokensReply {
  results: VerifyOutcome[];
}

export class TokenRefRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;

  @IsString()
  @MinLength(1)
  tokenId!: string;

  /** Narrows the lookup: a token of another kind is "not found" (an HTTP route for enrollment tokens cannot revoke an API key). */
  @IsOptional()
  @IsIn(TokenKinds as unknown as string[])
  kind?: TokenKind;

  /** Narrows the lookup to one environment's tokens. */
  @IsOptional()
  @Matches(ENVIRONMENT_NAME_PATTERN)
  environment?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;
}

export class RevokeTokenRequest extends TokenRefRequest {
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class RotateTokenRequest extends TokenRefRequest {
  /** How long the old secret keeps working (default from TOKEN_ROTATION_GRACE_SECONDS). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  gracePeriodSeconds?: number;
}

export class ListTokensRequest {
  @IsString()
  @MinLength(1)
  organizationId!: string;

  @IsOptional()
  @IsIn(TokenKinds as unknown as string[])
  kind?: TokenKind;

  @IsOptional()
  @Matches(ENVIRONMENT_NAME_PATTERN)
  environment?: string;

  @IsOptional()
  @IsBoolean()
  includeRevoked?: boolean;
}

export class CreateOrganizationRequest {
  @Matches(ORGANIZATION_NAME_PATTERN, {
    message: 'name must be lowercase letters, digits and dashes (max 63)',
  })
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;
}

export interface Organization {
  id: string;
  name: string;
  createdAt: string;
}

export interface CreatedOrganization {
  organization: Organization;
  apiKey: IssuedToken;
}
