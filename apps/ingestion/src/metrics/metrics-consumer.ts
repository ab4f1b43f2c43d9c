import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConsumerEvents, ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { Streams } from '@app/contracts';
import { Clock } from '@app/clock';
import { NATS_CONNECTION } from '@app/messaging';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { METRICS_CONSUMER } from './metrics-stream';
import { IngestOutcome, MetricsIngestor } from './metrics-ingestor';

/**
 * Up to 500 messages per batch: at 10k batches/s that is ~50 ms of traffic, enough to amortise
 * one transaction, small enough to bound memory and redelivery work.
 */
export const BATCH_MAX_MESSAGES = 500;
/**
 * Messages the client keeps pulled ahead of processing (nats.js refills at 75 % used). Two batches:
 * the next batch is already here when a commit ends.
 */
const PREFETCH_MESSAGES = 2 * BATCH_MAX_MESSAGES;
/**
 * Batches in ingest() at once: two, so the next batch is taken, decoded and checked on this thread while the
 * older one commits — in PostgreSQL's processes, or on SQLite's writer thread.
 */
export const BATCHES_IN_FLIGHT = 2;
/**
 * Life of one pull request. nats.js sends the next one on its own, asks the server for idle
 * heartbeats at half this, and re-pulls when two are missed or the connection comes back, so a server
 * restart or a pull lost in flight costs seconds, not a redelivery. In a NATS cluster a pull waits at
 * the consumer's leader: when that node dies or is cut off, consumption stops until the missed
 * heartbeats are noticed, so this bounds the pause (the cluster fault suite measured 12.7 s at 10 s).
 * Idle, it costs one small request per instance every few seconds.
 */
const PULL_EXPIRES_MS = 4000;
/** Pause while messages are held or after a consumer failure: doubles from 1 s up to 30 s, reset by the next success. */
const PAUSE_MIN_MS = 1000;
const PAUSE_MAX_MS = 30_000;
const LAG_REFRESH_MS = 5000;
/**
 * Messages in hand longer than this (a slow or stalled commit, an outage) are told to JetStream to be
 * in progress: within the consumer's 10 s ack wait, so a stall never turns into redeliveries, each of
 * which would count towards METRICS_MAX_DELIVERIES.
 */
const IN_PROGRESS_EVERY_MS = 4000;

const batchEnd = Symbol('batch end');
/** The oldest batch in flight finished before the next batch came. */
const finished = Symbol('finished');

/**
 * The metrics loop: take what has arrived (up to a batch) → ingest it (validate, write once, ack)
 * → repeat. Messages come from one long-lived nats.js `consume()`, which keeps a pull open and
 * refills it as messages are processed. While the database or the token service is unavailable,
 * the messages in hand are kept (in progress) and retried after a pause, and nothing more is pulled.
 */
@Injectable()
export class MetricsConsumer {
  private readonly logger = new Logger(MetricsConsumer.name);
  private running?: Promise<void>;
  private stopping = false;
  private pauseMs = PAUSE_MIN_MS;
  private lagTimer?: NodeJS.Timeout;
  private wakeUp?: () => void;
  private messages?: ConsumerMessages;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly ingestor: MetricsIngestor,
    private readonly metrics: IngestionMetrics,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  start(): void {
    this.stopping = false;
    this.running ??= this.loop();
    this.lagTimer ??= setInterval(() => void this.lag().catch(() => undefined), LAG_REFRESH_MS);
  }

  /**
   * Finishes the batch in hand (its acks included), then returns. Messages pulled but not yet
   * taken are left unacknowledged: JetStream redelivers them after the ack wait.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.lagTimer);
    this.lagTimer = undefined;
    this.wakeUp?.();
    this.messages?.stop();
    await this.running;
    this.running = undefined;
    // The pull this instance left open stays at the server until its unsubscribe arrives there; a message
    // published meanwhile would go to it and sit out the ack wait. Past the flush the server has dropped it.
    await this.nc.flush().catch(() => undefined);
  }

  /** Messages not yet delivered to the consumer; also refreshes the gauges. */
  async lag(): Promise<number> {
    const info = await (await this.nc.jetstreamManager()).consumers.info(Streams.metrics, METRICS_CONSUMER);
    this.metrics.consumerPending.set(info.num_pending);
    this.metrics.consumerAckPending.set(info.num_ack_pending);
    return info.num_pending;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.nc.jetstream().consumers.get(Streams.metrics, METRICS_CONSUMER);
        this.messages = await consumer.consume({ max_messages: PREFETCH_MESSAGES, expires: PULL_EXPIRES_MS });
        // stop() came while the pull was being opened: it found nothing to stop, so stop here.
        if (this.stopping) break;
        void this.reportStatus(this.messages);
        await this.drain(this.messages);
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn({ err: error }, 'metrics consumer failed; starting it again after a pause');
        await this.pause();
      } finally {
        this.messages?.stop();
        this.messages = undefined;
      }
    }
  }

  /**
   * Ingests batches from one consume() until it ends (stop(), the consumer or stream is gone, or messages are held).
   * Up to BATCHES_IN_FLIGHT at once; each batch acks its own messages after its commit. A batch that
   * finishes is looked at as soon as it does, not when the next message comes: what it held is retried at once.
   */
  private async drain(messages: ConsumerMessages): Promise<void> {
    const batches = new BatchTaker(messages[Symbol.asyncIterator]());
    const inFlight: Promise<IngestOutcome>[] = [];
    let taking: Promise<JsMsg[]> | undefined;
    try {
      for (;;) {
        if (!taking) {
          taking = batches.take();
          // Left pending when a held batch or stop() ends the loop: its failure then must not go unhandled.
          taking.catch(() => undefined);
        }
        const next = inFlight.length
          ? await Promise.race([taking, inFlight[0].then((): typeof finished => finished)])
          : await taking;
        if (next === finished) {
          if (await this.settleOldest(messages, inFlight)) return;
          continue;
        }
        taking = undefined;
        if (!next.length) break;
        const ingesting = inProgressWhile(next, () => this.ingestor.ingest(next));
        // Also handled here: after an older batch failed, the newer ones are only waited for (allSettled below).
        ingesting.catch(() => undefined);
        inFlight.push(ingesting);
        if (inFlight.length >= BATCHES_IN_FLIGHT && (await this.settleOldest(messages, inFlight))) return;
        if (this.stopping) break;
      }
      // The iterator ended or stop() came: what is in hand is finished first.
      while (inFlight.length) if (await this.settleOldest(messages, inFlight)) return;
    } catch (error) {
      await Promise.allSettled(inFlight);
      throw error;
    }
    if (!this.stopping) throw new Error('the metrics consumer stopped delivering');
  }

  /** Waits for the oldest batch in flight; true when messages are held (then all in flight have been waited for and retried). */
  private async settleOldest(
    messages: ConsumerMessages,
    inFlight: Promise<IngestOutcome>[],
  ): Promise<boolean> {
    const outcome = await inFlight.shift()!;
    if (!outcome.held.length) {
      this.pauseMs = PAUSE_MIN_MS;
      return false;
    }
    // Pull nothing more while these wait: prefetched messages would sit out their ack wait and come back as redeliveries.
    messages.stop();
    const newer = await Promise.all(inFlight.splice(0));
    await this.retryHeld({
      held: outcome.held.concat(...newer.map((n) => n.held)),
      storageError: outcome.storageError ?? newer.find((n) => n.storageError)?.storageError,
    });
    return true;
  }

  /**
   * Keeps messages that could not be judged or stored (token service or database unavailable) in hand
   * and offers them again after a growing pause, until they are done: an outage costs them no
   * delivery. Logged once when it starts and once when it ends, not per attempt.
   */
  private async retryHeld(first: IngestOutcome): Promise<void> {
    let held = first.held;
    const since = this.clock.now();
    this.logger.warn(
      { messages: held.length, err: first.storageError },
      'metrics held: the database or the token service is unavailable; consumption paused until they answer',
    );
    while (held.length) {
      await inProgressWhile(held, () => this.pause());
      if (this.stopping) {
        // Another instance (or the next start) takes them now rather than after the ack wait.
        for (const msg of held) msg.nak();
        return;
      }
      ({ held } = await inProgressWhile(held, () => this.ingestor.retry(held)));
    }
    this.logger.log({ pausedMs: this.clock.now() - since }, 'metrics consumption resumed');
  }

  private async reportStatus(messages: ConsumerMessages): Promise<void> {
    for await (const status of await messages.status()) {
      if (status.type === ConsumerEvents.HeartbeatsMissed || status.type === ConsumerEvents.ConsumerNotFound)
        this.logger.warn({ event: status.type, data: status.data }, 'metrics consumer: pull re-established');
    }
  }

  private async pause(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.pauseMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
    this.pauseMs = Math.min(this.pauseMs * 2, PAUSE_MAX_MS);
  }
}

/**
 * Turns a message iterator into batches: waits for the first message, then adds those that have
 * already arrived (up to `maxMessages`) without waiting for more. Full batches under load,
 * no added latency when quiet. An empty batch means the iterator ended.
 */
export class BatchTaker {
  private next?: Promise<IteratorResult<JsMsg>>;

  constructor(
    private readonly iterator: AsyncIterator<JsMsg>,
    private readonly maxMessages = BATCH_MAX_MESSAGES,
  ) {}

  async take(): Promise<JsMsg[]> {
    const batch: JsMsg[] = [];
    const first = await this.pull();
    if (first.done) return batch;
    batch.push(first.value);
    // One turn for the whole batch (not one per message): anything already queued resolves within
    // microtasks, before this immediate fires.
    const turn = nextTurn();
    while (batch.length < this.maxMessages) {
      const result = await Promise.race([this.pending(), turn]);
      if (result === batchEnd) break;
      this.next = undefined;
      if (result.done) break;
      batch.push(result.value);
    }
    return batch;
  }

  private pending(): Promise<IteratorResult<JsMsg>> {
    if (!this.next) {
      this.next = this.iterator.next();
      // Kept across batches when the immediate wins; whoever awaits it later sees the rejection.
      this.next.catch(() => undefined);
    }
    return this.next;
  }

  private async pull(): Promise<IteratorResult<JsMsg>> {
    const result = await this.pending();
    // A finished iterator keeps answering done; only a message is consumed.
    if (!result.done) this.next = undefined;
    return result;
  }
}

/** Runs `work` while telling JetStream every IN_PROGRESS_EVERY_MS that `messages` are still being worked on. */
export async function inProgressWhile<T>(messages: JsMsg[], work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => messages.forEach((msg) => msg.working()), IN_PROGRESS_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

function nextTurn(): Promise<typeof batchEnd> {
  return new Promise((resolve) => setImmediate(() => resolve(batchEnd)));
}
