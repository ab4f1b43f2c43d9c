import { randomUUID } from 'node:crypto';
import { Kysely } from 'kysely';
import { NatsConnection } from 'nats';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Provider } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { EventEnvelope, EventKind, isDependencyUnavailable, Subjects } from '@app/contracts';
import {
  ConnectionState,
  ensureDeadLetterStream,
  EventPublisher,
  NATS_CONNECTION,
  NewEvent,
  parkOnDeadLetter,
} from '@app/messaging';
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
  /** How long a claimed row is left to its claimer (default CLAIM_LEASE_MS). */
  claimLeaseMs?: number;
  /**
   * Where a row that can never be published is parked: `deadletter.outbox.<service>`. Without it
   * such a row is retried for ever (and holds nothing back: the rows behind it still go out).
   */
  service?: string;
  /** Failed publishes of one row before it may be parked (default MAX_ATTEMPTS). */
  maxAttempts?: number;
  now?: () => number;
}

/** A row as a round handles it: its event, or only its text when that is not JSON. */
interface OutboxRow {
  id: string;
  payload: string;
  envelope?: EventEnvelope;
  attempts: number;
}

/**
 * How long a claimed row is left to its claimer before another instance may publish it: longer
 * than a round takes (each publish waits at most 5 s, a round stops at the first failure).
 */
const CLAIM_LEASE_MS = 15_000;
/** Longest a published row from the request path waits for its (batched) delete. */
const DELETE_BATCH_MS = 100;
/** Retry delay after a failed publish: doubles from 500 ms up to 30 s. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/** ~2 minutes of backoff: 0.5, 1, 2, … 30 s. */
const MAX_ATTEMPTS = 10;

export type OutboxEvent = NewEvent<Record<string, unknown>> & { kind: EventKind };

/**
 * Transactional outbox for EVENTS. A service writes its events in the same transaction as the
 * change they describe (`add`), so a change is never committed without its event, nor an event
 * published for a change that rolled back. The relay publishes committed events oldest first
 * (`Nats-Msg-Id` = event id) and deletes them once JetStream has stored them; whatever a crash or
 * a NATS outage leaves behind is published by a later round, of this instance or another. A row
 * is claimed before it is published, so instances do not race to publish it; should it still go
 * out twice (its claimer died after publishing), the EVENTS duplicate window stores it once.
 *
 * A row that can never be published (poison: not JSON, a subject or size NATS refuses) must not hold
 * back every event behind it: once it has failed `maxAttempts` times and the row after it publishes
 * in the same round — proof that NATS and EVENTS are fine — it is parked on
 * `deadletter.outbox.<service>` with the reason and removed (`events_outbox_parked_total`).
 */
export class EventOutbox {
  private readonly logger = new Logger(EventOutbox.name);
  private readonly link: ConnectionState;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly claimLeaseMs: number;
  private readonly maxAttempts: number;
  private readonly service?: string;
  private readonly nc: NatsConnection;
  private parkedMetric?: Counter;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private round?: Promise<number>;
  private next?: Promise<number>;
  private failing = false;
  private toDelete: string[] = [];
  private deleteTimer?: NodeJS.Timeout;

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
    this.claimLeaseMs = options.claimLeaseMs ?? CLAIM_LEASE_MS;
    this.maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
    this.service = options.service;
    this.nc = nc;
    this.now = options.now ?? Date.now;
    this.link = ConnectionState.of(nc);
    this.link.onReconnect(() => void this.relay());
  }

  /**
   * Writes events with the caller's executor, which should be the transaction of the change they
   * describe. With `claim`, the rows are reserved for this instance (a lease), and the caller
   * publishes the returned envelopes right after its commit with `publishSoon(envelopes)`: no
   * claim query on the request path. Unclaimed rows go out with the next `relay()` round.
   */
  async add(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any service database that includes EventOutboxTables
    trx: Kysely<any>,
    events: OutboxEvent[],
    options: { claim?: boolean } = {},
  ): Promise<EventEnvelope[]> {
    if (!events.length) return [];
    const outbox = trx as Kysely<EventOutboxTables>;
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
          next_attempt_at: options.claim ? at + this.claimLeaseMs : at,
        })),
      )
      // The same id is the same fact (ids are derived from the change): keep the first.
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return envelopes;
  }

  /**
   * After the commit, for rows added with `claim`: publishes them in order, waiting at most
   * `maxWaitMs` (normally they are out when this returns); what is not out by then or fails is
   * left to the relay. Never throws: the change is committed either way.
   */
  async publishSoon(envelopes: EventEnvelope[], maxWaitMs = 500): Promise<void> {
    if (!envelopes.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.publishClaimed(envelopes),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs))),
    ]).finally(() => clearTimeout(timer));
  }

  start(): void {
    this.timer ??= setInterval(() => void this.relay(), this.pollMs);
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
    await this.deletePublished();
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
    this.parkedMetric = new Counter({
      name: 'events_outbox_parked_total',
      help: 'Outbox events that could never be published, parked on DEAD_LETTER (deadletter.outbox.<service>)',
      registers: [registry],
    });
  }

  /** Events not yet published (a gauge, and for tests). */
  async pending(): Promise<number> {
    const row = await this.db
      .selectFrom('event_outbox')
      // Published, waiting for their batched delete: not pending.
      .where('id', 'not in', this.toDelete.length ? this.toDelete : [''])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private async publishDue(): Promise<number> {
    if (!this.link.isConnected) return 0;
    try {
      const now = this.now();
      // Claim before publishing (a compare-and-set on next_attempt_at): with several instances
      // each row is published by one of them, so live subscribers see an event once. A claimer
      // that dies leaves the lease to expire, then another instance publishes the row.
      const claimed = await this.db
        .updateTable('event_outbox')
        .set({ next_attempt_at: now + this.claimLeaseMs })
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
      return await this.publishRows(due.map((row) => ({ ...row, envelope: parseEnvelope(row.payload) })));
    } catch (error) {
      // The database itself: the rows stay, a later round tries again (an outage is logged once, by its health).
      if (!isDependencyUnavailable(error)) this.logger.warn({ err: error }, 'outbox round failed');
      return 0;
    }
  }

  private async publishClaimed(envelopes: EventEnvelope[]): Promise<void> {
    try {
      if (!this.link.isConnected) {
        // Hand them to the relay, which runs again on reconnect.
        await this.release(
          envelopes.map((e) => e.id),
          0,
        );
        return;
      }
      await this.publishRows(
        envelopes.map((envelope) => ({
          id: envelope.id,
          payload: JSON.stringify(envelope),
          envelope,
          attempts: 0,
        })),
        true,
      );
    } catch (error) {
      if (!isDependencyUnavailable(error))
        this.logger.warn({ err: error }, 'outbox publish failed; the relay will retry');
    }
  }

  /**
   * Publishes rows this instance holds, in order; deletes the published ones in one statement and,
   * at the first failure, hands that row and the rest back to the relay with a backoff. A row out
   * of attempts is skipped once: if the next one publishes, it is poison and parked.
   */
  private async publishRows(rows: OutboxRow[], deferDelete = false): Promise<number> {
    const published: string[] = [];
    const done = new Set<string>();
    let suspect: { index: number; error: unknown } | undefined;
    let failedAt = -1;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!row.envelope) {
        // Never publishable; parked at once (or, with nowhere to park it, left behind the others).
        if (await this.park(row, 'outbox row is not a JSON event')) done.add(row.id);
        continue;
      }
      try {
        await this.publisher.publish(row.envelope as OutboxEvent);
        published.push(row.id);
        done.add(row.id);
        if (suspect) {
          const poison = rows[suspect.index];
          if (
            await this.park(
              poison,
              `not publishable after ${poison.attempts + 1} attempts: ${describe(suspect.error)}`,
            )
          )
            done.add(poison.id);
          suspect = undefined;
        }
      } catch (error) {
        if (!suspect && this.service && row.attempts + 1 >= this.maxAttempts && i + 1 < rows.length) {
          suspect = { index: i, error };
          continue;
        }
        if (!this.failing)
          this.logger.warn({ err: error, eventId: row.id }, 'event publish failed; kept in the outbox');
        this.failing = true;
        failedAt = suspect ? suspect.index : i;
        break;
      }
    }
    if (suspect && failedAt < 0) failedAt = suspect.index;
    if (published.length) {
      if (deferDelete) this.deleteSoon(published);
      else await this.db.deleteFrom('event_outbox').where('id', 'in', published).execute();
      if (this.failing && failedAt < 0) this.logger.log('events publishing again');
      if (failedAt < 0) this.failing = false;
    }
    if (failedAt >= 0) {
      const attempts = rows[failedAt].attempts + 1;
      const delay = Math.min(RETRY_MIN_MS * 2 ** (attempts - 1), RETRY_MAX_MS);
      await this.db
        .updateTable('event_outbox')
        .set({ attempts })
        .where('id', '=', rows[failedAt].id)
        .execute();
      await this.release(
        rows
          .slice(failedAt)
          .map((r) => r.id)
          .filter((id) => !done.has(id)),
        delay,
      );
    }
    return published.length;
  }

  /** Parks a row on DEAD_LETTER and deletes it; false (row kept) when that is not possible now. */
  private async park(row: OutboxRow, reason: string): Promise<boolean> {
    if (!this.service) return false;
    const source = `outbox.${this.service}`;
    let data = new TextEncoder().encode(row.payload);
    let detail: string | undefined;
    // Too big for NATS is a reason to park, and the copy must fit: keep its head.
    const room = Math.max(1024, (this.nc.info?.max_payload ?? 1024 * 1024) - 16 * 1024);
    if (data.length > room) {
      detail = `body truncated to ${room} of ${data.length} bytes`;
      data = data.subarray(0, room);
    }
    const letter = {
      subject: row.envelope ? Subjects.event(String(row.envelope.kind)) : Subjects.event('unknown'),
      data,
      reason,
      detail,
      msgId: `outbox:${row.id}`,
    };
    const js = this.nc.jetstream();
    try {
      try {
        await parkOnDeadLetter(js, source, letter);
      } catch (error) {
        // The first service to park anything may find DEAD_LETTER not created yet (nobody answers its subject).
        if ((error as { code?: string }).code !== '503') throw error;
        await ensureDeadLetterStream(await this.nc.jetstreamManager());
        await parkOnDeadLetter(js, source, letter);
      }
      await this.db.deleteFrom('event_outbox').where('id', '=', row.id).execute();
    } catch (error) {
      this.logger.warn(
        { err: error, eventId: row.id, reason },
        'could not park an unpublishable outbox event',
      );
      return false;
    }
    this.parkedMetric?.inc();
    this.logger.warn(
      { eventId: row.id, reason, subject: Subjects.deadLetter(source) },
      'unpublishable event parked on the dead-letter stream',
    );
    return true;
  }

  /**
   * Published rows from the request path are deleted in batches, not one statement (and, on
   * PostgreSQL, one fsync) per request. They stay leased meanwhile, so nobody publishes them again
   * unless this process dies within DELETE_BATCH_MS, and then the stream still stores them once.
   */
  private deleteSoon(ids: string[]): void {
    this.toDelete.push(...ids);
    if (this.toDelete.length >= this.batchSize) void this.deletePublished();
    else this.deleteTimer ??= setTimeout(() => void this.deletePublished(), DELETE_BATCH_MS);
  }

  private async deletePublished(): Promise<void> {
    clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    const ids = this.toDelete.splice(0);
    if (!ids.length) return;
    try {
      await this.db.deleteFrom('event_outbox').where('id', 'in', ids).execute();
    } catch (error) {
      // Left in the table: after their lease the relay publishes them again (stored once by the stream).
      if (!isDependencyUnavailable(error))
        this.logger.warn({ err: error }, 'could not delete published outbox rows');
    }
  }

  /** Makes rows due again after `delayMs`, for whichever instance's relay comes first. */
  private async release(ids: string[], delayMs: number): Promise<void> {
    if (!ids.length) return;
    await this.db
      .updateTable('event_outbox')
      .set({ next_attempt_at: this.now() + delayMs })
      .where('id', 'in', ids)
      .execute();
  }
}

function parseEnvelope(payload: string): EventEnvelope | undefined {
  try {
    const value = JSON.parse(payload) as unknown;
    return value && typeof value === 'object' && typeof (value as EventEnvelope).kind === 'string'
      ? (value as EventEnvelope)
      : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * Nest provider of the service's outbox, on its database (DATABASE) and NATS connection, with its
 * metrics on the service's registry when given; unpublishable rows are parked under
 * `deadletter.outbox.<service>`. Not started: the service starts it once its streams exist and
 * stops it after its last write.
 */
export function eventOutboxProvider(
  service: string,
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
      const outbox = new EventOutbox(database.db, publisher, nc, { service });
      if (serviceMetrics) outbox.registerMetrics(serviceMetrics.registry);
      return outbox;
    },
    inject: [DATABASE, EventPublisher, NATS_CONNECTION, ...(metrics ? [metrics] : [])],
  };
}

/**
 * Runs the relay for the service's whole life: from start-up it publishes what a crash or an outage
 * left in the outbox, and keeps polling until shutdown. For services with no ordering of their
 * own to respect (ingestion starts and stops its outbox itself, after its last write).
 */
@Injectable()
export class EventOutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(private readonly outbox: EventOutbox) {}

  onApplicationBootstrap(): void {
    this.outbox.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.outbox.stop();
  }
}
