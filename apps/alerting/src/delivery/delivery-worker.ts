import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AlertsRepository } from '../alerts/alerts.repository';
import { toAlert } from '../alerts/alert-mapper';
import { renderNotification } from '../channels/notification-format';
import { ChannelsRepository } from '../channels/channels.repository';
import { Clock } from '@app/clock';
import { AlertingConfig } from '../config';
import { DeliveryRow } from '../database';
import { AlertingMetrics } from '../health/alerting-metrics';
import { Transactions } from '../transactions';
import { retryDelayMs } from './backoff';
import { DeliveriesRepository } from './deliveries.repository';
import { PeriodicTask } from './periodic-task';
import { SendResult, WebhookSender } from './webhook-sender';

/** Deliveries sent concurrently per tick: enough to drain a burst, few enough not to flood receivers. */
const BATCH = 20;

/**
 * Sends due deliveries: claim (so two instances never send the same attempt), POST, then
 * record the attempt and the outcome in one transaction. Failures retry with exponential
 * backoff until ALERT_DELIVERY_MAX_ATTEMPTS, then the delivery is `failed`. Shutdown waits
 * for sends in flight, so a restart neither drops nor repeats one; only a crash between the
 * POST and its record can repeat it, with the same X-Rca-Delivery id for the receiver to drop.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly alerts: AlertsRepository,
    private readonly channels: ChannelsRepository,
    private readonly sender: WebhookSender,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly config: AlertingConfig,
    private readonly metrics: AlertingMetrics,
  ) {
    this.task = new PeriodicTask('delivery worker', config.ALERTING_TICK_MS, () => this.tick(), this.logger);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async tick(): Promise<void> {
    const now = this.clock.now();
    const due = await this.deliveries.due(now, BATCH);
    await Promise.all(due.map((delivery) => this.attempt(delivery, now)));
  }

  private async attempt(delivery: DeliveryRow, now: number): Promise<void> {
    // The lease outlasts one POST; if this process dies mid-send the delivery is due again after it.
    const leaseUntil = now + this.config.ALERT_DELIVERY_TIMEOUT_MS * 2;
    if (!(await this.deliveries.claim(delivery, leaseUntil))) return;
    const [channel, alert] = await Promise.all([
      this.channels.get(delivery.organization_id, delivery.channel_id),
      this.alerts.getById(delivery.organization_id, delivery.alert_id),
    ]);
    if (!channel || !alert) {
      await this.record(
        delivery,
        {
          ok: false,
          statusCode: null,
          error: channel ? 'alert no longer exists' : 'channel was deleted',
          durationMs: 0,
        },
        true,
      );
      return;
    }
    const body = renderNotification(channel.type, delivery.id, toAlert(alert), delivery.transition);
    const result = await this.sender.send(
      channel.url,
      body,
      channel.secret,
      delivery.id,
      this.config.ALERT_DELIVERY_TIMEOUT_MS,
    );
    await this.record(delivery, result, result.final ?? false);
  }

  private async record(delivery: DeliveryRow, result: SendResult, final: boolean): Promise<void> {
    const at = this.clock.now();
    const attempt = delivery.attempts + 1;
    const exhausted = final || attempt >= this.config.ALERT_DELIVERY_MAX_ATTEMPTS;
    const status = result.ok ? 'delivered' : exhausted ? 'failed' : 'pending';
    const nextAttemptAt =
      status === 'pending'
        ? at +
          retryDelayMs(
            attempt,
            this.config.ALERT_DELIVERY_BACKOFF_MS,
            this.config.ALERT_DELIVERY_BACKOFF_MAX_MS,
          )
        : null;
    await this.transactions.run(async (trx) => {
      const deliveries = this.deliveries.in(trx);
      await deliveries.recordAttempt({
        delivery_id: delivery.id,
        attempt,
        at,
        status_code: result.statusCode,
        error: result.error,
        duration_ms: result.durationMs,
      });
      await deliveries.update(delivery.id, {
        status,
        attempts: attempt,
        next_attempt_at: nextAttemptAt,
        last_status_code: result.statusCode,
        last_error: result.error,
        ...(result.ok ? { delivered_at: at } : {}),
      });
    });
    this.metrics.deliveryAttempts.inc({ outcome: status === 'pending' ? 'retrying' : status });
    if (status === 'failed') {
      this.logger.warn(
        { deliveryId: delivery.id, attempts: attempt, error: result.error },
        'alert delivery gave up',
      );
    }
  }
}
