import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AlertTransition } from '@app/contracts';
import { Clock } from '@app/clock';
import { AlertRow, AlertRuleRow } from '../database';
import { ChannelsRepository } from '../channels/channels.repository';
import { DeliveriesRepository } from '../delivery/deliveries.repository';
import { RulesRepository } from '../rules/rules.repository';
import { Executor } from '../transactions';
import { AlertsRepository } from './alerts.repository';

/**
 * The state changes that notify: firing and resolving. Each runs inside the caller's
 * transaction, so an alert's state and its pending deliveries are committed together.
 */
@Injectable()
export class AlertLifecycle {
  constructor(
    private readonly alerts: AlertsRepository,
    private readonly rules: RulesRepository,
    private readonly channels: ChannelsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly clock: Clock,
  ) {}

  /** Queues one delivery per channel of the rule that still exists. */
  async notify(trx: Executor, alert: AlertRow, rule: AlertRuleRow | undefined, transition: AlertTransition) {
    if (!rule) return;
    const wanted = JSON.parse(rule.channel_ids) as string[];
    const channelIds = await this.channels.in(trx).existingIds(alert.organization_id, wanted);
    await this.deliveries
      .in(trx)
      .createPending(alert.organization_id, alert.id, channelIds, transition, this.clock.now(), randomUUID);
  }

  /** pending → firing once its delay ran out; false when something else moved it first. */
  async fire(trx: Executor, alert: AlertRow, rule: AlertRuleRow): Promise<boolean> {
    const firedAt = this.clock.now();
    if (!(await this.alerts.in(trx).transition(alert.id, 'pending', 'firing', { fired_at: firedAt })))
      return false;
    await this.notify(trx, { ...alert, state: 'firing', fired_at: firedAt }, rule, 'firing');
    return true;
  }

  /** firing → resolved with a notification; a no-op when it is not firing (any more). */
  async resolve(trx: Executor, alert: AlertRow, at: number): Promise<void> {
    if (!(await this.alerts.in(trx).transition(alert.id, 'firing', 'resolved', { resolved_at: at }))) return;
    const rule = await this.rules.in(trx).get(alert.organization_id, alert.rule_id);
    await this.notify(trx, { ...alert, state: 'resolved', resolved_at: at }, rule, 'resolved');
  }

  /** pending → cancelled: the condition cleared before the delay ran out; nobody is told. */
  cancel(trx: Executor, alert: AlertRow, at: number): Promise<boolean> {
    return this.alerts.in(trx).transition(alert.id, 'pending', 'cancelled', { resolved_at: at });
  }
}
