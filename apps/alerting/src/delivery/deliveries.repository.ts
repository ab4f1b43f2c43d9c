import { Inject, Injectable } from '@nestjs/common';
import { AlertTransition, DeliveryStatus } from '@app/contracts';
import { Database, DATABASE } from '@app/persistence';
import { AlertingDB, DeliveryAttemptRow, DeliveryRow } from '../database';
import { Executor } from '../transactions';

export interface DeliveryFilter {
  channelId?: string;
  alertId?: string;
  status?: DeliveryStatus;
  limit: number;
  offset: number;
}

/** The only place that speaks SQL about deliveries and their attempt log. */
@Injectable()
export class DeliveriesRepository {
  private readonly db: Executor;

  constructor(@Inject(DATABASE) database: Database<AlertingDB> | { db: Executor }) {
    this.db = database.db;
  }

  in(trx: Executor): DeliveriesRepository {
    return new DeliveriesRepository({ db: trx });
  }

  /** One pending delivery per channel; a transition already recorded for a channel is not repeated. */
  async createPending(
    organizationId: string,
    alertId: string,
    channelIds: string[],
    transition: AlertTransition,
    now: number,
    newId: () => string,
  ): Promise<void> {
    if (channelIds.length === 0) return;
    await this.db
      .insertInto('deliveries')
      .values(
        channelIds.map((channelId) => ({
          id: newId(),
          organization_id: organizationId,
          alert_id: alertId,
          channel_id: channelId,
          transition,
          status: 'pending' as const,
          attempts: 0,
          next_attempt_at: now,
          last_status_code: null,
          last_error: null,
          created_at: now,
          delivered_at: null,
        })),
      )
      .onConflict((oc) => oc.columns(['alert_id', 'channel_id', 'transition']).doNothing())
      .execute();
  }

  /** Pending deliveries whose next attempt is due, across organisations: the worker's queue. */
  due(now: number, limit: number): Promise<DeliveryRow[]> {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
  }

  /**
   * Takes a delivery for one attempt by pushing its next attempt past the lease; true when this
   * caller got it. Another instance reading the same due row loses the race and skips it.
   */
  async claim(delivery: DeliveryRow, leaseUntil: number): Promise<boolean> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ next_attempt_at: leaseUntil })
      .where('id', '=', delivery.id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', delivery.next_attempt_at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async recordAttempt(attempt: DeliveryAttemptRow): Promise<void> {
    await this.db.insertInto('delivery_attempts').values(attempt).execute();
  }

  async update(
    id: string,
    changes: Pick<
      DeliveryRow,
      'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error'
    > & {
      delivered_at?: number;
    },
  ): Promise<void> {
    await this.db.updateTable('deliveries').set(changes).where('id', '=', id).execute();
  }

  async list(
    organizationId: string,
    filter: DeliveryFilter,
  ): Promise<{ rows: DeliveryRow[]; total: number }> {
    let query = this.db.selectFrom('deliveries').where('organization_id', '=', organizationId);
    if (filter.alertId) query = query.where('alert_id', '=', filter.alertId);
    if (filter.channelId) query = query.where('channel_id', '=', filter.channelId);
    if (filter.status) query = query.where('status', '=', filter.status);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  attemptsOf(deliveryIds: string[]): Promise<DeliveryAttemptRow[]> {
    if (deliveryIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('delivery_attempts')
      .selectAll()
      .where('delivery_id', 'in', deliveryIds)
      .orderBy('delivery_id')
      .orderBy('attempt')
      .execute();
  }
}
