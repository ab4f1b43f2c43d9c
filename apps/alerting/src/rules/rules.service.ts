import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AlertRule,
  AlertRuleChanges,
  AlertRuleInput,
  NotFoundError,
  ValidationFailedError,
} from '@app/contracts';
import { Clock } from '@app/clock';
import { AlertRuleRow } from '../database';
import { ChannelsRepository } from '../channels/channels.repository';
import { RulesRepository } from './rules.repository';
import { checkRuleParameters } from './rule-parameters';

/** CRUD of an organisation's alert rules. */
@Injectable()
export class RulesService {
  constructor(
    private readonly rules: RulesRepository,
    private readonly channels: ChannelsRepository,
    private readonly clock: Clock,
  ) {}

  async list(organizationId: string): Promise<AlertRule[]> {
    return (await this.rules.list(organizationId)).map(toAlertRule);
  }

  async create(organizationId: string, input: AlertRuleInput): Promise<AlertRule> {
    const now = this.clock.now();
    const row: AlertRuleRow = {
      id: randomUUID(),
      organization_id: organizationId,
      name: input.name,
      kind: input.kind,
      enabled: input.enabled === false ? 0 : 1,
      environment: input.environment ?? null,
      agent_type: input.agent_type ?? null,
      label: input.label ?? null,
      offline_seconds: input.offline_seconds ?? null,
      threshold: input.threshold ?? null,
      window_seconds: input.window_seconds ?? null,
      channel_ids: JSON.stringify(unique(input.channel_ids)),
      created_at: now,
      updated_at: now,
    };
    await this.check(row);
    await this.rules.insert(row);
    return toAlertRule(row);
  }

  async update(organizationId: string, ruleId: string, changes: AlertRuleChanges): Promise<AlertRule> {
    const current = await this.rules.get(organizationId, ruleId);
    if (!current) throw new NotFoundError(`alert rule ${ruleId}`);
    const merged: AlertRuleRow = {
      ...current,
      name: changes.name ?? current.name,
      enabled:
        changes.enabled === undefined || changes.enabled === null ? current.enabled : changes.enabled ? 1 : 0,
      // undefined keeps a scope field, null clears it.
      environment: changes.environment === undefined ? current.environment : changes.environment,
      agent_type: changes.agent_type === undefined ? current.agent_type : changes.agent_type,
      label: changes.label === undefined ? current.label : changes.label,
      offline_seconds: changes.offline_seconds ?? current.offline_seconds,
      threshold: changes.threshold ?? current.threshold,
      window_seconds: changes.window_seconds ?? current.window_seconds,
      channel_ids: changes.channel_ids ? JSON.stringify(unique(changes.channel_ids)) : current.channel_ids,
      updated_at: this.clock.now(),
    };
    await this.check(merged);
    const { id: _id, organization_id: _org, kind: _kind, created_at: _created, ...editable } = merged;
    await this.rules.update(organizationId, ruleId, editable);
    return toAlertRule(merged);
  }

  async delete(organizationId: string, ruleId: string): Promise<void> {
    if (!(await this.rules.delete(organizationId, ruleId))) throw new NotFoundError(`alert rule ${ruleId}`);
  }

  /** Kind parameters, and channels that exist in this organisation (another's id is as unknown as a typo). */
  private async check(row: AlertRuleRow): Promise<void> {
    const errors = checkRuleParameters(row);
    const channelIds = JSON.parse(row.channel_ids) as string[];
    const known = new Set(await this.channels.existingIds(row.organization_id, channelIds));
    const missing = channelIds.filter((id) => !known.has(id));
    if (missing.length)
      errors.push({ field: 'channel_ids', reason: `unknown channel(s): ${missing.join(', ')}` });
    if (errors.length) throw new ValidationFailedError(errors);
  }
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

export function toAlertRule(row: AlertRuleRow): AlertRule {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled === 1,
    environment: row.environment,
    agentType: row.agent_type,
    label: row.label,
    offlineSeconds: row.offline_seconds,
    threshold: row.threshold,
    windowSeconds: row.window_seconds,
    channelIds: JSON.parse(row.channel_ids) as string[],
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
