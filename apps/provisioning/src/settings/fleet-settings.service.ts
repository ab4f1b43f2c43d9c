import { Injectable } from '@nestjs/common';
import { FleetSettings } from '@app/contracts';
import { Clock } from '@app/clock';
import { AuditActions, AuditService } from '../audit/audit.service';
import { FleetSettingsRepository } from './fleet-settings.repository';

/** Defaults of an organisation that never changed its settings: everything automatic is off. */
const DEFAULT_SETTINGS: FleetSettings = { inactiveAgentCleanupDays: null };

/** An organisation's fleet settings: read, and changed with an audit entry. */
@Injectable()
export class FleetSettingsService {
  constructor(
    private readonly settings: FleetSettingsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async get(organizationId: string): Promise<FleetSettings> {
    const row = await this.settings.get(organizationId);
    if (!row) return { ...DEFAULT_SETTINGS };
    const days = row.inactive_agent_cleanup_days;
    return { inactiveAgentCleanupDays: days === null ? null : Number(days) };
  }

  async put(organizationId: string, next: FleetSettings, actor: string): Promise<FleetSettings> {
    const previous = await this.get(organizationId);
    // Setting what is already set records nothing (a dashboard saving an unchanged form, a script re-run).
    if (previous.inactiveAgentCleanupDays === next.inactiveAgentCleanupDays) return previous;
    await this.audit.record(
      organizationId,
      {
        actor,
        action: AuditActions.fleetSettingsChanged,
        targetType: 'organization',
        targetId: organizationId,
        details: { previous: { ...previous }, settings: { ...next } },
      },
      {
        change: (trx) =>
          this.settings.put(trx, {
            organization_id: organizationId,
            inactive_agent_cleanup_days: next.inactiveAgentCleanupDays,
            updated_at: this.clock.now(),
          }),
      },
    );
    return this.get(organizationId);
  }
}
