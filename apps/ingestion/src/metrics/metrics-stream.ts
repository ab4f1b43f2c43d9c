import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamManager,
  NatsError,
  RetentionPolicy,
  StorageType,
  StreamConfig,
} from 'nats';
import { ConfigError } from '@app/config';
import { Streams, Subjects } from '@app/contracts';
import { ensureStream, whileJetStreamSettles } from '@app/messaging';
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
/** AGENT_METRICS's size when METRICS_STREAM_MAX_BYTES is unset and JetStream can reserve it. */
export const METRICS_STREAM_DEFAULT_BYTES = 8 * 1024 ** 3;
/** Less than this holds minutes of a large fleet's metrics through an outage: start-up fails instead. */
const METRICS_STREAM_MIN_BYTES = 64 * 1024 ** 2;
/** JetStream's answer to a stream whose max_bytes it cannot reserve. */
const INSUFFICIENT_STORAGE = 10047;

const nanos = (seconds: number) => seconds * 1_000_000_000;
const MiB = 1024 ** 2;

export interface MetricsStreamSize {
  maxBytes: number;
  /** Set when the default did not fit: what JetStream could still reserve, of which the stream took half. */
  reservable?: number;
}

/**
 * AGENT_METRICS belongs to ingestion: created or updated at every start-up with the configured limits.
 * Its max_bytes is reserved by JetStream up front, out of nats-server's `max_file_store` (by default
 * 75 % of the disk that was free when it started). METRICS_STREAM_MAX_BYTES set: exactly that, or
 * start-up fails with a ConfigError naming the setting. Unset: 8 GiB, or, on a disk too small for it,
 * half of what JetStream can still reserve (the rest stays for EVENTS and DEAD_LETTER); an existing
 * stream keeps the size it has.
 */
export async function ensureMetricsStream(
  jsm: JetStreamManager,
  config: IngestionConfig,
): Promise<MetricsStreamSize> {
  const stream: Partial<StreamConfig> & { name: string } = {
    name: Streams.metrics,
    subjects: [Subjects.metricsWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // When full, the oldest unconsumed metrics go first: an outage longer than the limits loses the oldest data, bounded.
    discard: DiscardPolicy.Old,
    max_age: nanos(config.METRICS_STREAM_MAX_AGE_SECONDS),
    duplicate_window: nanos(config.METRICS_DUPLICATE_WINDOW_SECONDS),
    num_replicas: config.METRICS_STREAM_REPLICAS,
    // Nobody deletes or purges stored metrics through the API; the limits retire them.
    deny_delete: true,
    deny_purge: true,
  };
  const size =
    config.METRICS_STREAM_MAX_BYTES === undefined
      ? await fitStream(jsm, stream)
      : await sizedStream(jsm, stream, config.METRICS_STREAM_MAX_BYTES);
  await whileJetStreamSettles(() => ensureConsumer(jsm, config));
  return size;
}

async function sizedStream(
  jsm: JetStreamManager,
  stream: Partial<StreamConfig> & { name: string },
  maxBytes: number,
): Promise<MetricsStreamSize> {
  try {
    await ensureStream(jsm, { ...stream, max_bytes: maxBytes });
    return { maxBytes };
  } catch (error) {
    if (!isInsufficientStorage(error)) throw error;
    throw new ConfigError([
      {
        variable: 'METRICS_STREAM_MAX_BYTES',
        reason:
          `JetStream cannot reserve ${maxBytes} bytes for ${Streams.metrics} on this server (its max_file_store, ` +
          `by default 75 % of the disk free when nats-server started, is too small): set it lower, or leave it ` +
          `unset to size the stream from what JetStream has`,
      },
    ]);
  }
}

async function fitStream(
  jsm: JetStreamManager,
  stream: Partial<StreamConfig> & { name: string },
): Promise<MetricsStreamSize> {
  try {
    await ensureStream(jsm, { ...stream, max_bytes: METRICS_STREAM_DEFAULT_BYTES });
    return { maxBytes: METRICS_STREAM_DEFAULT_BYTES };
  } catch (error) {
    if (!isInsufficientStorage(error)) throw error;
  }
  const existing = await jsm.streams.info(stream.name).catch(() => undefined);
  if (existing) {
    // Its reservation is already held: keep it rather than shrink a stream that may hold an outage's backlog.
    await ensureStream(jsm, { ...stream, max_bytes: existing.config.max_bytes });
    return { maxBytes: existing.config.max_bytes };
  }
  const reservable = await largestReservation(jsm);
  const maxBytes = Math.floor(reservable / 2 / MiB) * MiB;
  if (maxBytes < METRICS_STREAM_MIN_BYTES)
    throw new ConfigError([
      {
        variable: 'METRICS_STREAM_MAX_BYTES',
        reason:
          `unset, and JetStream can reserve only ${Math.round(reservable / MiB)} MiB on this server, less than ` +
          `the ${(2 * METRICS_STREAM_MIN_BYTES) / MiB} MiB ${Streams.metrics} needs to take half of it: ` +
          `give nats-server more disk (its max_file_store) or set METRICS_STREAM_MAX_BYTES explicitly`,
      },
    ]);
  await ensureStream(jsm, { ...stream, max_bytes: maxBytes });
  return { maxBytes, reservable };
}

/** JetStream's answer to creating a stream whose name exists with another configuration. */
const STREAM_NAME_IN_USE = 10058;
const STREAM_NOT_FOUND = 10059;

/**
 * The largest max_bytes JetStream will reserve now, to within METRICS_STREAM_MIN_BYTES: it says only
 * yes or no, so a scratch stream (on a subject nobody publishes to) is created and deleted, halving
 * the interval each time; a dozen requests at start-up, only when the default did not fit. One fixed
 * name, so the bus grants ingestion creating and deleting exactly it (permissions match whole subject
 * tokens, never a name prefix). A probe
 * left by an instance that died mid-way is deleted first; one of an instance starting at the same
 * moment is waited for.
 */
async function largestReservation(jsm: JetStreamManager): Promise<number> {
  await deleteProbe(jsm);
  let fits = 0;
  let refused = METRICS_STREAM_DEFAULT_BYTES;
  while (refused - fits > METRICS_STREAM_MIN_BYTES / 2) {
    const size = Math.floor((fits + refused) / 2);
    try {
      await createProbe(jsm, size);
      await deleteProbe(jsm);
      fits = size;
    } catch (error) {
      if (!isInsufficientStorage(error)) throw error;
      refused = size;
    }
  }
  return fits;
}

async function createProbe(jsm: JetStreamManager, maxBytes: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await jsm.streams.add({
        name: Streams.metricsSizeProbe,
        subjects: ['_rca.size-probe'],
        storage: StorageType.File,
        max_bytes: maxBytes,
      });
      return;
    } catch (error) {
      if (jetStreamCode(error) !== STREAM_NAME_IN_USE || attempt === 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function deleteProbe(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.delete(Streams.metricsSizeProbe);
  } catch (error) {
    if (jetStreamCode(error) !== STREAM_NOT_FOUND) throw error;
  }
}

async function ensureConsumer(jsm: JetStreamManager, config: IngestionConfig): Promise<void> {
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

function jetStreamCode(error: unknown): number | undefined {
  return error instanceof NatsError ? error.api_error?.err_code : undefined;
}

function isInsufficientStorage(error: unknown): boolean {
  return jetStreamCode(error) === INSUFFICIENT_STORAGE;
}
