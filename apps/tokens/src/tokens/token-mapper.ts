import { IssuedToken, Organization, TokenMetadata } from '@app/contracts';
import { OrganizationRow, TokenRow } from '../database';

export function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The only way a token row leaves the service: everything but the hash. */
export function toTokenMetadata(row: TokenRow): TokenMetadata {
  return {
    id: row.id,
    kind: row.kind,
    organizationId: row.organization_id,
    environment: row.environment,
    name: row.name,
    hint: row.hint,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: toIso(row.expires_at),
    revokedAt: toIso(row.revoked_at),
    maxUses: row.max_uses,
    uses: row.uses,
    lastUsedAt: toIso(row.last_used_at),
    graceUntil: toIso(row.grace_until),
    replacedBy: row.replaced_by,
    scope: row.scope,
  };
}

/** The single response that carries the plaintext, right after it was generated. */
export function toIssuedToken(row: TokenRow, secret: string): IssuedToken {
  return { ...toTokenMetadata(row), secret };
}

export function toOrganization(row: OrganizationRow): Organization {
  return { id: row.id, name: row.name, createdAt: new Date(row.created_at).toISOString() };
}
