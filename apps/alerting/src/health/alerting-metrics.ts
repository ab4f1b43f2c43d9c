import { Counter } from 'prom-client';
import { ServiceMetrics } from '@app/observability';

/** What an operator watches: events handled, notifications sent or given up on. */
export class AlertingMetrics extends ServiceMetrics {
  readonly eventsHandled = new Counter({
    name: 'rca_alerting_events_total',
    help: 'Agent events read from the EVENTS stream, by outcome (handled, retried, parked)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly deliveryAttempts = new Counter({
    name: 'rca_alerting_delivery_attempts_total',
    help: 'Notification POSTs, by outcome (delivered, retrying, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
}
