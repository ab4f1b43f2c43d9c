import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamManager,
  NatsError,
  RetentionPolicy,
  StorageType,
} from 'nats';
import { Streams, Subjects } from '@app/contracts';
import { ensureStream } from '@app/messaging';
import { IngestionConfig } from '../config';

/** Durable pull consumer shared by every ingestion instance: JetStream spreads batches among them. */
export const METRICS_CONSUMER = 'ingestion';
/**
 * A delivered batch that is neither acked nor nak'd (the instance died or stopped with it in hand)
 * is redelivered after this. Short, so such a batch is stored seconds late, not half a minute; a
 * commit slower than this only causes a redelivery that the (agent, seq) key ignores.
 */
const ACK_WAIT_SECONDS = 10;
/** Bounds messages out at once across all instances (each instance holds up to two batches of BATCH_MAX_MESSAGES). */
const MAX_ACK_PENDING = 20_000;

const nanos = (seconds: number) => seconds * 1_000_000_000;

/** AGENT_METRICS belongs to ingestion: created or updated at every start-up with the configured limits. */
export async function ensureMetricsStream(jsm: JetStreamManager, config: IngestionConfig): Promise<void> {
  await ensureStream(jsm, {
    name: Streams.metrics,
    subjects: [Subjects.metricsWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // When full, the oldest unconsumed metrics go first: an outage longer than the limits loses the oldest data, bounded.
    discard: DiscardPolicy.Old,
    max_age: nanos(config.METRICS_STREAM_MAX_AGE_SECONDS),
    max_bytes: config.METRICS_STREAM_MAX_BYTES,
    duplicate_window: nanos(config.METRICS_DUPLICATE_WINDOW_SECONDS),
    num_replicas: config.METRICS_STREAM_REPLICAS,
  });
  try {
    const info = await jsm.consumers.info(Streams.metrics, METRICS_CONSUMER);
    if (
      info.config.ack_wait !== nanos(ACK_WAIT_SECONDS) ||
      info.config.max_deliver !== config.METRICS_MAX_DELIVERIES
    ) {
      await jsm.consumers.update(Streams.metrics, METRICS_CONSUMER, {
        ack_wait: nanos(ACK_WAIT_SECONDS),
        max_deliver: config.METRICS_MAX_DELIVERIES,
      });
    }
  } catch (error) {
    if (!(error instanceof NatsError) || error.api_error?.err_code !== 10014) throw error;
    await jsm.consumers.add(Streams.metrics, {
      durable_name: METRICS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_SECONDS),
      max_ack_pending: MAX_ACK_PENDING,
      // Bounded, so nothing is retried forever: an outage costs no delivery (ingestion holds what it has
      // in hand), poison is parked after three, and what JetStream gives up on is parked from its advisory.
      max_deliver: config.METRICS_MAX_DELIVERIES,
    });
  }
}
