import { randomUUID } from 'node:crypto';
import { Kysely } from 'kysely';
import { NatsConnection } from 'nats';
import { Logger, Provider } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { EventEnvelope, EventKind } from '@app/contracts';
import { ConnectionState, EventPublisher, NATS_CONNECTION, NewEvent } from '@app/messaging';
import { Database, DATABASE } from '@app/persistence';

/** One event waiting to be published; `payload` is the whole envelope as JSON. */
export interface EventOutboxRow {
  id: string;
  payload: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
}

/** Merge into a service's database type: `interface MyDB extends EventOutboxTables { … }`. */
export interface EventOutboxTables {
  event_outbox: EventOutboxRow;
}

/** The outbox table, for a service's migration list. */
export async function createEventOutboxTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('event_outbox')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('event_outbox_due')
    .ifNotExists()
    .on('event_outbox')
    .columns(['next_attempt_at', 'created_at'])
    .execute();
}

export interface EventOutboxOptions {
  /** How often the relay looks for events left behind (a crash, an outage); commits wake it at once. */
  pollMs?: number;
  /** Events published per round. */
  batchSize?: number;
  now?: () => number;
}

/** How long a claimed row is left to its claimer before another instance may publish it. */
const CLAIM_LEASE_MS = 60_000;
/** Retry delay after a failed publish: doubles from 500 ms up to 30 s. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

export type OutboxEvent = NewEvent<Record<string, unknown>> & { kind: EventKind };

/**
 * Transactional outbox for EVENTS. A service writes its events in the same transaction as the
 * change they describe (`add`), so a change is never committed without its event, nor an event
 * published for a change that rolled back. The relay publishes committed events oldest first
 * (`Nats-Msg-Id` = event id) and deletes them once JetStream has stored them; whatever a crash or
 * a NATS outage leaves behind is published by a later round, of this instance or another. A row
 * is claimed before it is published, so instances do not race to publish it; should it still go
 * out twice (its claimer died after publishing), the EVENTS duplicate window stores it once.
 */
export class EventOutbox {
  private readonly logger = new Logger(EventOutbox.name);
  private readonly link: ConnectionState;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private round?: Promise<number>;
  private next?: Promise<number>;
  private failing = false;

  private readonly db: Kysely<EventOutboxTables>;

  constructor(
    /** A service database whose schema includes EventOutboxTables (Kysely's DB type is invariant). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    db: Kysely<any>,
    private readonly publisher: EventPublisher,
    nc: NatsConnection,
    options: EventOutboxOptions = {},
  ) {
    this.db = db as Kysely<EventOutboxTables>;
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 200;
    this.now = options.now ?? Date.now;
    this.link = ConnectionState.of(nc);
    this.link.onReconnect(() => void this.relay());
  }

  /**
   * Writes events with the caller's executor, which should be the transaction of the change they
   * describe; publish them with `relay()` or `publishSoon()` after the commit.
   */
  async add(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any service database that includes EventOutboxTables
    trx: Kysely<any>,
    events: OutboxEvent[],
  ): Promise<EventEnvelope[]> {
    if (!events.length) return [];
    // Any service database that has the table (Kysely's types are invariant in DB).
    const outbox = trx as unknown as Kysely<EventOutboxTables>;
    const at = this.now();
    const envelopes = events.map((event): EventEnvelope => ({
      ...event,
      id: event.id ?? randomUUID(),
      occurredAt: event.occurredAt ?? new Date(at).toISOString(),
    }));
    await outbox
      .insertInto('event_outbox')
      .values(
        envelopes.map((e) => ({
          id: e.id,
          payload: JSON.stringify(e),
          created_at: at,
          attempts: 0,
          next_attempt_at: at,
        })),
      )
      // The same id is the same fact (ids are derived from the change): keep the first.
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return envelopes;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.relay(), this.pollMs);
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /**
   * One round: publish due events oldest first, stopping at the first failure (NATS is likely
   * down; the row is retried later). Rounds never overlap. Resolves with how many that round published.
   */
  relay(): Promise<number> {
    // A round already running may have read the table before the caller's commit: queue one more
    // (shared by every caller meanwhile), so the caller's events are out when this resolves.
    if (this.round) {
      this.next ??= this.round.then(() => {
        this.next = undefined;
        return this.relay();
      });
      return this.next;
    }
    this.round = this.publishDue().finally(() => (this.round = undefined));
    return this.round;
  }

  /**
   * For request paths: publishes what was just committed, waiting at most `maxWaitMs`. Normally the
   * events are out when this returns; when NATS is slow or refuses them, the caller goes on and
   * the relay keeps trying in the background.
   */
  async publishSoon(maxWaitMs = 500): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.relay(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs))),
    ]).finally(() => clearTimeout(timer));
  }

  /** Adds `events_outbox_pending` (read at scrape time) to a service's Prometheus registry. */
  registerMetrics(registry: Registry): void {
    const pending = () => this.pending();
    new Gauge({
      name: 'events_outbox_pending',
      help: 'Events committed but not yet stored by JetStream (a growing value means NATS or EVENTS refuses them)',
      registers: [registry],
      async collect() {
        this.set(await pending());
      },
    });
  }

  /** Events not yet published (a gauge, and for tests). */
  async pending(): Promise<number> {
    const row = await this.db
      .selectFrom('event_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private async publishDue(): Promise<number> {
    if (!this.link.isConnected) return 0;
    let published = 0;
    try {
      const now = this.now();
      // Claim before publishing (a compare-and-set on next_attempt_at): with several instances
      // each row is published by one of them, so live subscribers see an event once. A claimer
      // that dies leaves the lease to expire, then another instance publishes the row.
      const claimed = await this.db
        .updateTable('event_outbox')
        .set({ next_attempt_at: now + CLAIM_LEASE_MS })
        .where('next_attempt_at', '<=', now)
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('event_outbox')
            .select('id')
            .where('next_attempt_at', '<=', now)
            .orderBy('created_at')
            .orderBy('id')
            .limit(this.batchSize),
        )
        .returningAll()
        .execute();
      const due = claimed.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
      for (const row of due) {
        try {
          await this.publisher.publish(JSON.parse(row.payload) as OutboxEvent);
        } catch (error) {
          const attempts = row.attempts + 1;
          await this.db
            .updateTable('event_outbox')
            .set({
              attempts,
              next_attempt_at: this.now() + Math.min(RETRY_MIN_MS * 2 ** (attempts - 1), RETRY_MAX_MS),
            })
            .where('id', '=', row.id)
            .execute();
          if (!this.failing)
            this.logger.warn({ err: error, eventId: row.id }, 'event publish failed; kept in the outbox');
          this.failing = true;
          return published;
        }
        await this.db.deleteFrom('event_outbox').where('id', '=', row.id).execute();
        published++;
        if (this.failing) this.logger.log('events publishing again');
        this.failing = false;
      }
    } catch (error) {
      // The database itself: the rows stay, the next round tries again.
      this.logger.warn({ err: error }, 'outbox round failed');
    }
    return published;
  }
}

/**
 * Nest provider of the service's outbox, on its database (DATABASE) and NATS connection, with its
 * gauge on the service's metrics registry when given. Not started: the service starts it once its
 * streams exist and stops it after its last write.
 */
export function eventOutboxProvider(
  metrics?: abstract new (...args: never[]) => { registry: Registry },
): Provider {
  return {
    provide: EventOutbox,
    useFactory: (
      database: Database<EventOutboxTables>,
      publisher: EventPublisher,
      nc: NatsConnection,
      serviceMetrics?: { registry: Registry },
    ) => {
      const outbox = new EventOutbox(database.db, publisher, nc);
      if (serviceMetrics) outbox.registerMetrics(serviceMetrics.registry);
      return outbox;
    },
    inject: [DATABASE, EventPublisher, NATS_CONNECTION, ...(metrics ? [metrics] : [])],
  };
}
