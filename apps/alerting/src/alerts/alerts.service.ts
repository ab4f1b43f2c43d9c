import { Injectable } from '@nestjs/common';
import { Alert, AlertDelivery, AlertsQuery, DeliveriesQuery, Page } from '@app/contracts';
import { DeliveryAttemptRow, DeliveryRow } from '../database';
import { DeliveriesRepository } from '../delivery/deliveries.repository';
import { toAlert } from './alert-mapper';
import { AlertsRepository } from './alerts.repository';

const DEFAULT_LIMIT = 50;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Read side: an organisation's alerts and its delivery log. */
@Injectable()
export class AlertsService {
  constructor(
    private readonly alerts: AlertsRepository,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  async list(organizationId: string, query: AlertsQuery): Promise<Page<Alert>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const offset = query.offset ?? 0;
    const { rows, total } = await this.alerts.list(organizationId, {
      state: query.state,
      ruleId: query.rule_id,
      agentId: query.agent_id,
      limit,
      offset,
    });
    return { items: rows.map(toAlert), total, limit, offset };
  }

  async listDeliveries(organizationId: string, query: DeliveriesQuery): Promise<Page<AlertDelivery>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const offset = query.offset ?? 0;
    const { rows, total } = await this.deliveries.list(organizationId, {
      alertId: query.alert_id,
      channelId: query.channel_id,
      status: query.status,
      limit,
      offset,
    });
    const attempts = await this.deliveries.attemptsOf(rows.map((r) => r.id));
    return { items: rows.map((row) => toDelivery(row, attempts)), total, limit, offset };
  }
}

function toDelivery(row: DeliveryRow, attempts: DeliveryAttemptRow[]): AlertDelivery {
  return {
    id: row.id,
    alertId: row.alert_id,
    channelId: row.channel_id,
    transition: row.transition,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: new Date(row.created_at).toISOString(),
    deliveredAt: iso(row.delivered_at),
    log: attempts
      .filter((a) => a.delivery_id === row.id)
      .map((a) => ({
        attempt: a.attempt,
        at: new Date(a.at).toISOString(),
        statusCode: a.status_code,
        error: a.error,
        durationMs: a.duration_ms,
      })),
  };
}
