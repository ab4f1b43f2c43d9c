import { Inject, Injectable, Logger } from '@nestjs/common';
import { Consumer, JetStreamClient, JsMsg, NatsConnection } from 'nats';
import { Streams } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { METRICS_CONSUMER } from './metrics-stream';
import { MetricsIngestor } from './metrics-ingestor';

/**
 * Up to 500 messages per fetch: at 10k batches/s that is ~50 ms of traffic, enough to amortise
 * one transaction, small enough to bound memory and redelivery work. An idle fetch waits 1 s.
 */
export const FETCH_MAX_MESSAGES = 500;
export const FETCH_EXPIRES_MS = 1000;
const NO_WAIT_GUARD_MS = 5000;
/** Pause after a storage or fetch failure: doubles from 1 s up to 30 s, reset by the next success. */
const PAUSE_MIN_MS = 1000;
const PAUSE_MAX_MS = 30_000;
const LAG_REFRESH_MS = 5000;

/** The metrics loop: fetch a batch → ingest it (validate, write once, ack) → repeat. */
@Injectable()
export class MetricsConsumer {
  private readonly logger = new Logger(MetricsConsumer.name);
  private running?: Promise<void>;
  private stopping = false;
  private pauseMs = PAUSE_MIN_MS;
  private lagTimer?: NodeJS.Timeout;
  private wakeUp?: () => void;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly ingestor: MetricsIngestor,
    private readonly metrics: IngestionMetrics,
  ) {}

  start(): void {
    this.stopping = false;
    this.running ??= this.loop();
    this.lagTimer ??= setInterval(() => void this.lag().catch(() => undefined), LAG_REFRESH_MS);
  }

  /** Finishes the batch in hand (its acks included), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.lagTimer);
    this.lagTimer = undefined;
    this.wakeUp?.();
    await this.running;
    this.running = undefined;
  }

  /** Messages not yet delivered to the consumer; also refreshes the gauges. */
  async lag(): Promise<number> {
    const info = await (await this.nc.jetstreamManager()).consumers.info(Streams.metrics, METRICS_CONSUMER);
    this.metrics.consumerPending.set(info.num_pending);
    this.metrics.consumerAckPending.set(info.num_ack_pending);
    return info.num_pending;
  }

  private async loop(): Promise<void> {
    const js = this.nc.jetstream();
    let consumer: Consumer | undefined;
    while (!this.stopping) {
      try {
        consumer ??= await js.consumers.get(Streams.metrics, METRICS_CONSUMER);
        const messages = await fetchBatch(js, consumer);
        if (!messages.length) continue;
        const { pause } = await this.ingestor.ingest(messages);
        if (pause) await this.pause();
        else this.pauseMs = PAUSE_MIN_MS;
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn({ err: error }, 'metrics fetch or batch failed; retrying after a pause');
        await this.pause();
      }
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
 * Waits up to FETCH_EXPIRES_MS for the first message, then takes whatever else is already
 * available (no wait) up to FETCH_MAX_MESSAGES: full batches under load, no added latency when quiet.
 */
async function fetchBatch(js: JetStreamClient, consumer: Consumer): Promise<JsMsg[]> {
  const first = await consumer.next({ expires: FETCH_EXPIRES_MS });
  if (!first) return [];
  const messages = [first];
  const rest = js.fetch(Streams.metrics, METRICS_CONSUMER, { batch: FETCH_MAX_MESSAGES - 1, no_wait: true });
  // A no-wait fetch ends on the server's "no more messages" status; if the connection drops before
  // it arrives, nothing else would end it. Generous: stopping early drops messages already on their
  // way, which then wait for the ack wait, and a busy event loop can be slow to read the status.
  const guard = setTimeout(() => rest.stop(), NO_WAIT_GUARD_MS);
  try {
    for await (const msg of rest) messages.push(msg);
  } finally {
    clearTimeout(guard);
  }
  return messages;
}
