import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { AgentRow, ProvisioningDB } from '../database';

/**
 * SQL of an agent's lifecycle: label edits, hard delete, re-enroll allowances and the inactive-agent
 * cleanup's claims. Every change is a compare-and-set, so two instances (or two callers) cannot both
 * make it; each takes the organisation, and the transaction of its audit entry when there is one.
 */
/** Not running and not revoked: gone silent (offline) or stopped cleanly (stopped); both can go inactive. */
export const SILENT_STATUSES: ('offline' | 'stopped')[] = ['offline', 'stopped'];

@Injectable()
export class AgentLifecycleRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<ProvisioningDB>) {}

  /** Replaces the agent's labels if they are still `expected` (its JSON as read); false otherwise. */
  async replaceLabels(
    db: Kysely<ProvisioningDB>,
    organizationId: string,
    agentId: string,
    expected: string,
    labels: Record<string, string>,
  ): Promise<boolean> {
    const result = await db
      .updateTable('agents')
      .set({ labels: JSON.stringify(labels) })
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .where('labels', '=', expected)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await db
      .deleteFrom('agent_labels')
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .execute();
    const rows = Object.entries(labels).map(([key, value]) => ({
      agent_id: agentId,
      organization_id: organizationId,
      key,
      value,
    }));
    if (rows.length) await db.insertInto('agent_labels').values(rows).execute();
    return true;
  }

  /** Deletes the agent only while it is revoked; false when it is not (any more). */
  async deleteRevoked(db: Kysely<ProvisioningDB>, organizationId: string, agentId: string): Promise<boolean> {
    const result = await db
      .deleteFrom('agents')
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .where('status', '=', 'revoked')
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) return false;
    // PostgreSQL cascades; SQLite enforces foreign keys only when asked to, so the labels go explicitly.
    await db
      .deleteFrom('agent_labels')
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .execute();
    // What it last reported applying goes with it; its override versions stay as the environment's history.
    await db
      .deleteFrom('agent_config_status')
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .execute();
    return true;
  }

  /** Marks a revoked agent's host as allowed to enroll again; false when the agent is not revoked. */
  async allowReenroll(
    db: Kysely<ProvisioningDB>,
    organizationId: string,
    agentId: string,
    at: number,
  ): Promise<boolean> {
    const result = await db
      .updateTable('agents')
      .set({ reenroll_allowed_at: at })
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .where('status', '=', 'revoked')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Uses up a revoked agent's allowance: it moves out of its host's slot (to `<hostId>@<agentId>`), so
   * the new agent can take it. False when there is no allowance (never given, or a racing enrollment
   * used it): one allowance admits one enrollment.
   */
  async takeReenrollAllowance(organizationId: string, revoked: AgentRow): Promise<boolean> {
    const result = await this.database.db
      .updateTable('agents')
      .set({ reenroll_allowed_at: null, host_id: `${revoked.host_id}@${revoked.id}`.slice(0, 255) })
      .where('organization_id', '=', organizationId)
      .where('id', '=', revoked.id)
      .where('status', '=', 'revoked')
      .where('reenroll_allowed_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Offline, stopped or revoked agents last heard before `cutoff`: the cleanup's candidates, oldest first. */
  inactiveSince(
    organizationId: string,
    cutoff: number,
    limit: number,
  ): Promise<Pick<AgentRow, 'id' | 'status' | 'environment' | 'hostname' | 'type'>[]> {
    return this.database.db
      .selectFrom('agents')
      .select(['id', 'status', 'environment', 'hostname', 'type'])
      .where('organization_id', '=', organizationId)
      .where('status', 'in', [...SILENT_STATUSES, 'revoked'])
      .where('last_seen_at', '<', cutoff)
      .orderBy('last_seen_at')
      .limit(limit)
      .execute();
  }

  /** The cleanup's claim: revokes the agent only if it is still offline (or stopped) and unheard since `cutoff`. */
  async revokeIfInactive(
    db: Kysely<ProvisioningDB>,
    organizationId: string,
    agentId: string,
    cutoff: number,
    at: number,
  ): Promise<boolean> {
    const result = await db
      .updateTable('agents')
      .set({ status: 'revoked', revoked_at: at })
      .where('organization_id', '=', organizationId)
      .where('id', '=', agentId)
      .where('status', 'in', SILENT_STATUSES)
      .where('last_seen_at', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
