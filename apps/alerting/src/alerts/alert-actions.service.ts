import { Injectable } from '@nestjs/common';
import { Alert, ConflictError, NotFoundError } from '@app/contracts';
import { Clock } from '@app/clock';
import { Transactions } from '../transactions';
import { toAlert } from './alert-mapper';
import { AlertLifecycle } from './alert-lifecycle';
import { AlertsRepository } from './alerts.repository';

/** What a person does to an alert by hand: acknowledge it, or resolve it before its condition clears. */
@Injectable()
export class AlertActionsService {
  constructor(
    private readonly alerts: AlertsRepository,
    private readonly lifecycle: AlertLifecycle,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
  ) {}

  async acknowledge(organizationId: string, alertId: string, actor: string): Promise<Alert> {
    const alert = await this.require(organizationId, alertId);
    if (alert.state !== 'pending' && alert.state !== 'firing') {
      throw new ConflictError(`alert ${alertId} is ${alert.state}: only an open alert can be acknowledged`);
    }
    if (!(await this.alerts.acknowledge(organizationId, alertId, this.clock.now(), actor))) {
      if (alert.acknowledged_at === null) throw new ConflictError(`alert ${alertId} changed; try again`);
    }
    return toAlert(await this.require(organizationId, alertId));
  }

  /** firing → resolved (the channels are told, as when the agent comes back); pending → cancelled. */
  async resolve(organizationId: string, alertId: string): Promise<Alert> {
    const alert = await this.require(organizationId, alertId);
    const at = this.clock.now();
    if (alert.state === 'firing') {
      await this.transactions.run((trx) => this.lifecycle.resolve(trx, alert, at));
    } else if (alert.state === 'pending') {
      await this.transactions.run((trx) => this.lifecycle.cancel(trx, alert, at));
    } else {
      throw new ConflictError(`alert ${alertId} is already ${alert.state}`);
    }
    return toAlert(await this.require(organizationId, alertId));
  }

  private async require(organizationId: string, alertId: string) {
    const alert = await this.alerts.getById(organizationId, alertId);
    if (!alert) throw new NotFoundError(`alert ${alertId}`);
    return alert;
  }
}
