import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '@app/clock';
import { AlertingConfig } from '../config';
import { PeriodicTask } from '../delivery/periodic-task';
import { RulesRepository } from '../rules/rules.repository';
import { Transactions } from '../transactions';
import { AlertLifecycle } from './alert-lifecycle';
import { AlertsRepository } from './alerts.repository';

/** Alerts handled per tick; the rest wait for the next one rather than holding one long transaction. */
const BATCH = 100;
/** Rate windows are at most a day (AlertRuleInput.window_seconds); older hits can never count again. */
const HIT_RETENTION_MS = 86_400_000;

/**
 * The time side of alerting, driven by the injected clock: fires pending alerts whose delay
 * ran out (agent offline for longer than N), and resolves rate alerts whose window has
 * dropped below the threshold. Safe with several instances: every transition is conditional.
 */
@Injectable()
export class AlertScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertScheduler.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly alerts: AlertsRepository,
    private readonly rules: RulesRepository,
    private readonly lifecycle: AlertLifecycle,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    config: AlertingConfig,
  ) {
    this.task = new PeriodicTask('alert scheduler', config.ALERTING_TICK_MS, () => this.tick(), this.logger);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async tick(): Promise<void> {
    await this.fireDue();
    await this.resolveQuietRates();
  }

  private async fireDue(): Promise<void> {
    const now = this.clock.now();
    for (const alert of await this.alerts.due(now, BATCH)) {
      await this.transactions.run(async (trx) => {
        const rule = await this.rules.in(trx).get(alert.organization_id, alert.rule_id);
        // The rule was deleted or switched off while the alert waited: nobody asked to be told any more.
        if (!rule || rule.enabled !== 1) await this.lifecycle.cancel(trx, alert, now);
        else await this.lifecycle.fire(trx, alert, rule);
      });
    }
  }

  private async resolveQuietRates(): Promise<void> {
    const now = this.clock.now();
    for (const alert of await this.alerts.firingOfKind('enrollment_failures', BATCH)) {
      const rule = await this.rules.get(alert.organization_id, alert.rule_id);
      const windowMs = (rule?.window_seconds ?? 0) * 1000;
      const count = rule ? await this.alerts.countHits(rule.id, now - windowMs, now) : 0;
      if (rule && count >= (rule.threshold ?? 1)) continue;
      await this.transactions.run((trx) => this.lifecycle.resolve(trx, alert, now));
    }
    await this.alerts.pruneHits(now - HIT_RETENTION_MS);
  }
}
