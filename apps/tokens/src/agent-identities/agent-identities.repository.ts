import { Inject, Injectable } from '@nestjs/common';
import { Database, DATABASE } from '@app/persistence';
import { AgentIdentityRow, TokensDB } from '../database';
import { Executor } from '../transactions';

/**
 * The only place that speaks SQL about agent identities. Tenant-facing methods take the organisation
 * id; the lookups by agent id are for the platform's own use (ingestion, the intake, renewal), where
 * the agent id is all the caller has — agent ids are globally unique and the row says its organisation.
 */
@Injectable()
export class AgentIdentitiesRepository {
  private readonly db: Executor;

  constructor(@Inject(DATABASE) database: Database<TokensDB> | { db: Executor }) {
    this.db = database.db;
  }

  in(trx: Executor): AgentIdentitiesRepository {
    return new AgentIdentitiesRepository({ db: trx });
  }

  async insert(row: AgentIdentityRow): Promise<void> {
    await this.db.insertInto('agent_identities').values(row).execute();
  }

  /** Every identity of these agents, newest first per agent. */
  findByAgentIds(agentIds: string[]): Promise<AgentIdentityRow[]> {
    if (!agentIds.length) return Promise.resolve([]);
    return this.db
      .selectFrom('agent_identities')
      .selectAll()
      .where('agent_id', 'in', [...new Set(agentIds)])
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  async setJwtExpiry(id: string, expiresAt: number): Promise<void> {
    await this.db
      .updateTable('agent_identities')
      .set({ jwt_expires_at: expiresAt })
      .where('id', '=', id)
      .execute();
  }

  /** Revokes the agent's active identities (or the one with `publicKey`); returns the rows it changed. */
  revoke(
    organizationId: string,
    agentId: string,
    at: number,
    reason: string | null,
    publicKey?: string,
  ): Promise<AgentIdentityRow[]> {
    let query = this.db
      .updateTable('agent_identities')
      .set({ revoked_at: at, revoke_reason: reason })
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .where('revoked_at', 'is', null);
    if (publicKey) query = query.where('public_key', '=', publicKey);
    return query.returningAll().execute();
  }

  /** Keys revoked since `since`: their JWTs may still be unexpired, so NATS must keep refusing them. */
  revokedSince(since: number): Promise<Pick<AgentIdentityRow, 'public_key' | 'revoked_at'>[]> {
    return this.db
      .selectFrom('agent_identities')
      .select(['public_key', 'revoked_at'])
      .where('revoked_at', '>=', since)
      .execute();
  }
}
