import {
  DiscardPolicy,
  ErrorCode,
  JetStreamManager,
  NatsError,
  RetentionPolicy,
  StorageType,
  StreamConfig,
} from 'nats';
import { Streams, Subjects } from '@app/contracts';

const nanos = (seconds: number) => seconds * 1_000_000_000;

/** True when a JetStream API error says the stream or consumer does not exist. */
export function isJetStreamNotFound(error: unknown): boolean {
  return (
    error instanceof NatsError &&
    (error.api_error?.err_code === 10059 ||
      error.api_error?.err_code === 10014 ||
      /not found/i.test(error.message))
  );
}

/** JetStream's answer while it has no leader for the request (an election in a cluster). */
const JETSTREAM_UNAVAILABLE = 10008;
/** A new cluster's answer to a replicated stream until every node has joined its JetStream. */
const NO_SUITABLE_PEERS = 10005;
/** How long start-up waits for JetStream to settle: elections after a node loss take seconds, not minutes. */
const SETTLE_DEADLINE_MS = 60_000;

/**
 * Whether a JetStream API call failed only because nobody could answer yet: no reply (in a cluster a
 * request for a stream whose replicas are still electing a leader goes unanswered), JetStream saying
 * it is temporarily unavailable, or too few nodes yet for the replicas asked (a cluster still forming).
 * (No responders means no JetStream at all: that fails at once.) Safe to ask again: the calls retried are idempotent.
 */
export function isJetStreamSettling(error: unknown): boolean {
  if (!(error instanceof NatsError)) return false;
  return (
    error.code === ErrorCode.Timeout ||
    error.api_error?.err_code === JETSTREAM_UNAVAILABLE ||
    error.api_error?.err_code === NO_SUITABLE_PEERS
  );
}

/**
 * Runs an idempotent JetStream set-up step (create or update a stream or consumer) again while JetStream
 * is settling, with a growing pause, for at most a minute: every instance of every service runs these at
 * start-up, and on a NATS cluster that is exactly when new streams elect their leaders.
 */
export async function whileJetStreamSettles<T>(
  step: () => Promise<T>,
  deadlineMs = SETTLE_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
    try {
      return await step();
    } catch (error) {
      if (!isJetStreamSettling(error) || Date.now() + pause > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * Creates a stream when it is missing, or applies the settings to the existing one: for the stream's
 * owning service, whose config sets its limits, so a changed retention reaches a running deployment.
 * Safe to call from every instance at start-up.
 */
export function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  return whileJetStreamSettles(async () => {
    try {
      const info = await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, { ...info.config, ...config });
    } catch (error) {
      if (!isJetStreamNotFound(error)) throw error;
      await jsm.streams.add(config);
    }
  });
}

/** Retention of a stream the services share but none owns (EVENTS, DEAD_LETTER). */
interface SharedStreamLimits {
  maxAgeSeconds: number;
  /** Every stream is bounded (the PLATFORM account requires it); the oldest messages go first. */
  maxBytes: number;
}

const EVENTS_LIMITS: SharedStreamLimits = { maxAgeSeconds: 7 * 86400, maxBytes: 512 * 1024 ** 2 };
const DEAD_LETTER_LIMITS: SharedStreamLimits = { maxAgeSeconds: 14 * 86400, maxBytes: 128 * 1024 ** 2 };

/**
 * `replicas` unset: a missing stream is created with one replica and an existing one is left as it is
 * (operators may have tuned it). Set (EVENTS_STREAM_REPLICAS, DEAD_LETTER_STREAM_REPLICAS): the stream
 * is created with that many, and an existing one is scaled to it at start-up (in a NATS cluster, 3).
 */
export interface SharedStreamSettings {
  replicas?: number;
}

/**
 * Creates a stream nobody owns when it is missing; applies only an explicitly configured replica
 * count to an existing one. Every instance of every service calls it at start-up, so it is idempotent.
 */
function ensureSharedStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  replicas: number | undefined,
): Promise<void> {
  return whileJetStreamSettles(async () => {
    try {
      const info = await jsm.streams.info(config.name);
      if (replicas !== undefined && info.config.num_replicas !== replicas)
        await jsm.streams.update(config.name, { ...info.config, num_replicas: replicas });
    } catch (error) {
      if (!isJetStreamNotFound(error)) throw error;
      await jsm.streams.add({ ...config, num_replicas: replicas ?? 1 });
    }
  });
}

/**
 * Streams keep what they hold: nobody may delete a message or purge the stream through the API (an
 * attacker with a foothold could otherwise erase the evidence); age and size limits retire data.
 */
export const TAMPER_PROOF = { deny_delete: true, deny_purge: true } as const;

/**
 * EVENTS: facts for internal consumers; de-duplicated by event id. Several services publish to it and
 * none owns its limits, so it is only created when missing: operators tune retention with
 * `nats stream edit EVENTS` and no restart undoes that; replicas follow EVENTS_STREAM_REPLICAS when set.
 */
export function ensureEventsStream(jsm: JetStreamManager, settings: SharedStreamSettings = {}) {
  const limits = EVENTS_LIMITS;
  return ensureSharedStream(
    jsm,
    {
      name: Streams.events,
      subjects: [Subjects.eventsWildcard],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.maxAgeSeconds),
      max_bytes: limits.maxBytes,
      duplicate_window: nanos(120),
      ...TAMPER_PROOF,
    },
    settings.replicas,
  );
}

/** DEAD_LETTER: messages that can never be processed, with the reason in a header. Created when missing, like EVENTS. */
export function ensureDeadLetterStream(jsm: JetStreamManager, settings: SharedStreamSettings = {}) {
  const limits = DEAD_LETTER_LIMITS;
  return ensureSharedStream(
    jsm,
    {
      name: Streams.deadLetter,
      subjects: [Subjects.deadLetterWildcard],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      // Bounded so a flood of garbage cannot fill the disk; the oldest parked messages go first.
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.maxAgeSeconds),
      max_bytes: limits.maxBytes,
      // A parked message is at most one agent message plus its headers.
      max_msg_size: 2 * 1024 * 1024,
      ...TAMPER_PROOF,
    },
    settings.replicas,
  );
}
