import { EventOutboxTables } from '@app/outbox';
import { ApiKeyScope, TokenKind } from '@app/contracts';

/** Row types of the tokens service's tables (timestamps: ms since epoch). */
export interface OrganizationRow {
  id: string;
  name: string;
  created_at: number;
}

export interface TokenRow {
  id: string;
  kind: TokenKind;
  organization_id: string;
  environment: string | null;
  name: string | null;
  /** sha256 hex of the secret; the secret itself is never stored. */
  hash: string;
  hint: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  max_uses: number | null;
  uses: number;
  last_used_at: number | null;
  grace_until: number | null;
  replaced_by: string | null;
  /** API keys: read, provision or admin; null for enrollment tokens. */
  scope: ApiKeyScope | null;
}

/** An agent's key on record (one row per key; a re-enrollment adds one and revokes the old). */
export interface AgentIdentityRow {
  id: string;
  organization_id: string;
  environment: string;
  agent_id: string;
  /** nkey user public key (`U…`); the private half never left the agent's host. */
  public_key: string;
  name: string;
  created_at: number;
  /** Expiry of the latest JWT signed for this key. */
  jwt_expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
}

export interface TokensDB extends EventOutboxTables {
  organizations: OrganizationRow;
  tokens: TokenRow;
  agent_identities: AgentIdentityRow;
}
