import { Injectable } from '@nestjs/common';
import {
  ApiKeyScope,
  ConflictError,
  DomainError,
  IssuedToken,
  IssueTokenRequest,
  ListTokensRequest,
  NotFoundError,
  parseToken,
  RevokeTokenRequest,
  RotatedToken,
  RotateTokenRequest,
  RpcErrorPayload,
  TokenExhaustedError,
  TokenExpiredError,
  TokenKind,
  TokenMalformedError,
  TokenMetadata,
  TokenRevokedError,
  TokenToVerify,
  TokenUnknownError,
  TokenWrongKindError,
  ValidationFailedError,
  VerifiedToken,
  VerifyManyTokensReply,
  VerifyManyTokensRequest,
  VerifyTokenRequest,
  tokenHint,
} from '@app/contracts';
import { Clock } from '@app/clock';
import { TokensConfig } from '../config';
import { TokenRow } from '../database';
import { OrganizationsRepository } from '../organizations/organizations.repository';
import { Transactions } from '../transactions';
import { TokenEvents } from './token-events';
import { toIso, toIssuedToken, toTokenMetadata } from './token-mapper';
import { hashesMatch, hashToken, TokenSecrets } from './token-secrets';
import { TokensRepository } from './tokens.repository';

/** What a new token is for; everything else (id, secret, hash, timestamps) is generated. */
export interface NewTokenFields {
  kind: TokenKind;
  organizationId: string;
  environment?: string | null;
  name?: string | null;
  expiresAt?: number | null;
  maxUses?: number | null;
  uses?: number;
  scope?: ApiKeyScope | null;
}

/** last_used_at is informational: write it at most this often per token, not on every verification. */
const LAST_USED_RESOLUTION_MS = 60_000;

@Injectable()
export class TokensService {
  constructor(
    private readonly tokens: TokensRepository,
    private readonly organizations: OrganizationsRepository,
    private readonly transactions: Transactions,
    private readonly events: TokenEvents,
    private readonly secrets: TokenSecrets,
    private readonly clock: Clock,
    private readonly config: TokensConfig,
  ) {}

  /**
   * Builds a token row and its secret without storing it, so callers can insert it inside
   * their own transaction (organisation creation). `secret` is given only at bootstrap.
   */
  newToken(
    fields: NewTokenFields,
    secret = this.secrets.generate(fields.kind),
  ): { row: TokenRow; secret: string } {
    const row: TokenRow = {
      id: this.secrets.newId(),
      kind: fields.kind,
      organization_id: fields.organizationId,
      environment: fields.environment ?? null,
      name: fields.name ?? null,
      scope: fields.kind === 'api_key' ? (fields.scope ?? 'admin') : null,
      hash: hashToken(secret),
      hint: tokenHint(secret),
      created_at: this.clock.now(),
      expires_at: fields.expiresAt ?? null,
      revoked_at: null,
      max_uses: fields.maxUses ?? null,
      uses: fields.uses ?? 0,
      last_used_at: null,
      grace_until: null,
      replaced_by: null,
    };
    return { row, secret };
  }

  async issue(request: IssueTokenRequest): Promise<IssuedToken> {
    const expiresAt = request.expiresAt === undefined ? null : Date.parse(request.expiresAt);
    this.checkIssueRules(request, expiresAt);
    if (!(await this.organizations.getById(request.organizationId))) throw new NotFoundError('organization');
    const { row, secret } = this.newToken({ ...request, expiresAt });
    const events = await this.transactions.run(async (trx) => {
      await this.tokens.in(trx).insert(row);
      return this.events.issued(trx, row, undefined, request.actor);
    });
    await this.events.publishSoon(events);
    return toIssuedToken(row, secret);
  }

  /**
   * The hot path: format and checksum first (no I/O for garbage), then one indexed lookup.
   * The returned expiry is the effective one (a rotated token's grace end counts), because
   * caches keep a positive answer no longer than that.
   */
  async verify(request: VerifyTokenRequest): Promise<VerifiedToken> {
    const hash = wellFormedHash(request);
    const row = await this.tokens.findByHash(hash);
    const now = this.clock.now();
    const verified = usableToken(row, hash, now);
    if (request.consume) {
      if (!(await this.tokens.consumeUse(verified.organizationId, verified.tokenId, now)))
        throw new TokenExhaustedError();
    } else if (row && lastUseIsStale(row, now)) {
      await this.tokens.touchLastUsed(row.organization_id, row.id, now);
    }
    return verified;
  }

  /**
   * `verify` for many tokens with one lookup, answering each exactly as `verify` would (without
   * `consume`). One bad token fails only its own answer.
   */
  async verifyMany(request: VerifyManyTokensRequest): Promise<VerifyManyTokensReply> {
    const hashes = request.items.map((item) => outcomeOf(() => wellFormedHash(item)));
    const found = await this.tokens.findByHashes(hashes.flatMap((h) => (h.ok ? [h.value] : [])));
    const rows = new Map(found.map((row) => [row.hash, row]));
    const now = this.clock.now();
    const results = hashes.map((h) =>
      h.ok ? outcomeOf(() => usableToken(rows.get(h.value), h.value, now)) : h,
    );

    const accepted = new Set(results.flatMap((r) => (r.ok ? [r.value.tokenId] : [])));
    const stale = found.filter((row) => accepted.has(row.id) && lastUseIsStale(row, now));
    for (const organizationId of new Set(stale.map((row) => row.organization_id))) {
      const ids = stale.filter((row) => row.organization_id === organizationId).map((row) => row.id);
      await this.tokens.touchLastUsedMany(organizationId, ids, now);
    }
    return { results };
  }

  /** Idempotent: revoking a revoked token changes nothing but announces it again, so a retry still reaches every cache. */
  async revoke(request: RevokeTokenRequest): Promise<TokenMetadata> {
    const scope = { kind: request.kind, environment: request.environment };
    const { row, events } = await this.transactions.run(async (trx) => {
      const tokens = this.tokens.in(trx);
      if (!(await tokens.getById(request.organizationId, request.tokenId, scope)))
        throw new NotFoundError('token');
      await tokens.revoke(request.organizationId, request.tokenId, this.clock.now());
      const revoked = await tokens.getById(request.organizationId, request.tokenId, scope);
      if (!revoked) throw new NotFoundError('token');
      return { row: revoked, events: await this.events.revoked(trx, revoked, request.reason, request.actor) };
    });
    await this.events.publishSoon(events);
    return toTokenMetadata(row);
  }

  /**
   * Issues a replacement with the same kind, organisation, environment, agent, name, expiry
   * and remaining uses; the old secret keeps working for the grace period.
   */
  async rotate(request: RotateTokenRequest): Promise<RotatedToken> {
    const scope = { kind: request.kind, environment: request.environment };
    const old = await this.tokens.getById(request.organizationId, request.tokenId, scope);
    if (!old) throw new NotFoundError('token');
    const now = this.clock.now();
    if (old.revoked_at !== null) throw new ConflictError('token is revoked; issue a new one instead');
    if (old.replaced_by !== null)
      throw new ConflictError(`token was already rotated; rotate ${old.replaced_by} instead`);
    if (old.expires_at !== null && old.expires_at <= now)
      throw new ConflictError('token has expired; issue a new one instead');

    const graceSeconds = request.gracePeriodSeconds ?? this.config.TOKEN_ROTATION_GRACE_SECONDS;
    // A token never gains lifetime by being rotated: the grace ends at its own expiry at the latest.
    const graceUntil = Math.min(now + graceSeconds * 1000, old.expires_at ?? Infinity);
    const { row, secret } = this.newToken({
      kind: old.kind,
      organizationId: old.organization_id,
      environment: old.environment,
      name: old.name,
      expiresAt: old.expires_at,
      maxUses: old.max_uses,
      uses: old.uses,
      scope: old.scope,
    });
    const events = await this.transactions.run(async (trx) => {
      await this.tokens.in(trx).insert(row);
      if (!(await this.tokens.in(trx).markRotated(old.organization_id, old.id, graceUntil, row.id))) {
        throw new ConflictError('token was rotated or revoked concurrently');
      }
      return [
        ...(await this.events.issued(trx, row, old.id, request.actor)),
        ...(await this.events.rotated(trx, old, row, graceUntil, request.actor)),
      ];
    });
    await this.events.publishSoon(events);
    const previous = { ...old, grace_until: graceUntil, replaced_by: row.id };
    return { token: toIssuedToken(row, secret), previous: toTokenMetadata(previous) };
  }

  async list(request: ListTokensRequest): Promise<TokenMetadata[]> {
    const rows = await this.tokens.list(
      request.organizationId,
      {
        kind: request.kind,
        environment: request.environment,
        includeRevoked: request.includeRevoked ?? false,
      },
      this.clock.now(),
    );
    return rows.map(toTokenMetadata);
  }

  private checkIssueRules(request: IssueTokenRequest, expiresAt: number | null): void {
    const problems: { field: string; reason: string }[] = [];
    if (expiresAt !== null && expiresAt <= this.clock.now()) {
      problems.push({ field: 'expiresAt', reason: 'must be in the future' });
    }
    if (request.maxUses !== undefined && request.kind !== 'enrollment') {
      problems.push({ field: 'maxUses', reason: 'only enrollment tokens have a usage limit' });
    }
    if (request.scope !== undefined && request.kind !== 'api_key') {
      problems.push({ field: 'scope', reason: 'only API keys have a scope' });
    }
    if (problems.length) throw new ValidationFailedError(problems);
  }
}

/** Format, checksum and expected kind: what is refused without a lookup. Returns the hash to look up. */
function wellFormedHash(item: TokenToVerify): string {
  const parsed = parseToken(item.token);
  if (!parsed) throw new TokenMalformedError();
  if (item.expectedKind && parsed.kind !== item.expectedKind) {
    throw new TokenWrongKindError(item.expectedKind, parsed.kind);
  }
  return hashToken(item.token);
}

/** Whether the row found for `hash` may be used at `now`: what the caller learns about the token. */
function usableToken(row: TokenRow | undefined, hash: string, now: number): VerifiedToken {
  if (!row || !hashesMatch(row.hash, hash)) throw new TokenUnknownError();
  if (row.revoked_at !== null && row.revoked_at <= now) throw new TokenRevokedError();
  const expiresAt = effectiveExpiry(row);
  if (expiresAt !== null && expiresAt <= now) throw new TokenExpiredError();
  if (row.max_uses !== null && row.uses >= row.max_uses) throw new TokenExhaustedError();
  return {
    tokenId: row.id,
    kind: row.kind,
    organizationId: row.organization_id,
    environment: row.environment,
    expiresAt: toIso(expiresAt),
    scope: row.scope,
  };
}

function lastUseIsStale(row: TokenRow, now: number): boolean {
  return row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: Pick<RpcErrorPayload, 'code' | 'message'> };

/** A domain error becomes that item's answer; anything else is a fault of the whole request. */
function outcomeOf<T>(check: () => T): Outcome<T> {
  try {
    return { ok: true, value: check() };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { ok: false, error: { code: error.code, message: error.message } };
  }
}

/** A token stops working at its expiry or, once rotated, at the end of its grace period. */
export function effectiveExpiry(row: Pick<TokenRow, 'expires_at' | 'grace_until'>): number | null {
  if (row.expires_at === null) return row.grace_until;
  if (row.grace_until === null) return row.expires_at;
  return Math.min(row.expires_at, row.grace_until);
}
