import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditEntry, Page } from '@app/contracts';
import { Clock } from '@app/clock';
import { AuditRow } from '../database';
import { AuditRepository } from './audit.repository';

/** Who did what: provisioning, token issue, enrollment, re-enrollment, revocation. */
export const AuditActions = {
  environmentCreated: 'environment.created',
  agentProvisioned: 'agent.provisioned',
  tokenIssued: 'token.issued',
  agentEnrolled: 'agent.enrolled',
  agentReenrolled: 'agent.reenrolled',
  agentRevoked: 'agent.revoked',
} as const;

export interface NewAuditEntry {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

const DEFAULT_PAGE_SIZE = 50;

@Injectable()
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly clock: Clock,
  ) {}

  async record(organizationId: string, entry: NewAuditEntry): Promise<void> {
    await this.repository.insert({
      id: randomUUID(),
      organization_id: organizationId,
      at: this.clock.now(),
      actor: entry.actor,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: JSON.stringify(entry.details ?? {}),
    });
  }

  async list(
    organizationId: string,
    filter: { action?: string; agentId?: string; limit?: number; offset?: number },
  ): Promise<Page<AuditEntry>> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    const offset = filter.offset ?? 0;
    const { rows, total } = await this.repository.list(organizationId, {
      action: filter.action,
      targetId: filter.agentId,
      limit,
      offset,
    });
    return { items: rows.map(toEntry), total, limit, offset };
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    organizationId: row.organization_id,
    at: new Date(Number(row.at)).toISOString(),
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}
