import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Transaction } from 'kysely';
import { EventOutbox, OutboxEvent } from '@app/outbox';
import { AuditEntry, Page } from '@app/contracts';
import { Clock } from '@app/clock';
import { AuditRow, ProvisioningDB } from '../database';
import { AuditRepository } from './audit.repository';

/** Who did what: provisioning, token issue, enrollment, re-enrollment, revocation. */
export const AuditActions = {
  environmentCreated: 'environment.created',
  agentProvisioned: 'agent.provisioned',
  tokenIssued: 'token.issued',
  tokenRevoked: 'token.revoked',
  tokenRotated: 'token.rotated',
  agentEnrolled: 'agent.enrolled',
  agentReenrolled: 'agent.reenrolled',
  agentRevoked: 'agent.revoked',
  agentLabelsChanged: 'agent.labels_changed',
  agentDeleted: 'agent.deleted',
  agentReenrollAllowed: 'agent.reenroll_allowed',
  fleetSettingsChanged: 'fleet.settings_changed',
} as const;

export interface NewAuditEntry {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

const DEFAULT_PAGE_SIZE = 50;

export interface AuditedChange {
  /** The fact to publish on EVENTS; written to the outbox in the same transaction. */
  event?: OutboxEvent;
  /**
   * The change itself, in the same transaction. Returning false means there was nothing to do
   * (e.g. someone else created the environment first): no entry, no event.
   */
  change?: (trx: Transaction<ProvisioningDB>) => Promise<boolean | void>;
}

@Injectable()
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly clock: Clock,
    private readonly outbox: EventOutbox,
  ) {}

  /**
   * Records who did what: the change (if given), its audit entry and its event commit together or
   * not at all; the event is then normally published before this returns (when NATS cannot take
   * it within 0.5 s, the relay keeps trying). Resolves with whether anything was recorded.
   */
  async record(organizationId: string, entry: NewAuditEntry, audited: AuditedChange = {}): Promise<boolean> {
    const row: AuditRow = {
      id: randomUUID(),
      organization_id: organizationId,
      at: this.clock.now(),
      actor: entry.actor,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: JSON.stringify(entry.details ?? {}),
    };
    if (!audited.change && !audited.event) {
      await this.repository.insert(row);
      return true;
    }
    const events = await this.repository.transaction(async (trx) => {
      if ((await audited.change?.(trx)) === false) return undefined;
      await this.repository.insert(row, trx);
      return audited.event ? this.outbox.add(trx, [audited.event], { claim: true }) : [];
    });
    if (!events) return false;
    await this.outbox.publishSoon(events);
    return true;
  }

  /** An event that is not an audited change (a refused enrollment): through the outbox too. */
  async announce(event: OutboxEvent): Promise<void> {
    const events = await this.repository.transaction((trx) => this.outbox.add(trx, [event], { claim: true }));
    await this.outbox.publishSoon(events);
  }

  async list(
    organizationId: string,
    filter: { action?: string; actionPrefix?: string; agentId?: string; limit?: number; offset?: number },
  ): Promise<Page<AuditEntry>> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    const offset = filter.offset ?? 0;
    const { rows, total } = await this.repository.list(organizationId, {
      action: filter.action,
      actionPrefix: filter.actionPrefix,
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
