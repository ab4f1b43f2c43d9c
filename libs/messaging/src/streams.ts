import { DiscardPolicy, JetStreamManager, RetentionPolicy, StorageType, StreamConfig, NatsError } from 'nats';
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

/**
 * Creates a stream when it is missing. `update: true` (the stream's owning service, whose config
 * sets its limits) also applies the settings to an existing stream, so a changed retention reaches a
 * running deployment. Safe to call from every instance at start-up.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  options: { update: boolean } = { update: true },
): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    if (options.update) await jsm.streams.update(config.name, { ...info.config, ...config });
  } catch (error) {
    if (!isJetStreamNotFound(error)) throw error;
    await jsm.streams.add(config);
  }
}

export interface EventsStreamSettings {
  maxAgeSeconds: number;
  /** Every stream is bounded (the PLATFORM account requires it); the oldest messages go first. */
  maxBytes: number;
  replicas: number;
}

/**
 * Streams keep what they hold: nobody may delete a message or purge the stream through the API (an
 * attacker with a foothold could otherwise erase the evidence); age and size limits retire data.
 */
export const TAMPER_PROOF = { deny_delete: true, deny_purge: true } as const;

/**
 * EVENTS: facts for internal consumers; de-duplicated by event id. Several services publish to it and
 * none owns its limits, so it is only created when missing: operators tune retention and replicas with
 * `nats stream edit EVENTS` and no restart undoes that.
 */
export function ensureEventsStream(
  jsm: JetStreamManager,
  settings: EventsStreamSettings = { maxAgeSeconds: 7 * 86400, maxBytes: 512 * 1024 ** 2, replicas: 1 },
) {
  return ensureStream(
    jsm,
    {
      name: Streams.events,
      subjects: [Subjects.eventsWildcard],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(settings.maxAgeSeconds),
      max_bytes: settings.maxBytes,
      duplicate_window: nanos(120),
      num_replicas: settings.replicas,
      ...TAMPER_PROOF,
    },
    { update: false },
  );
}

/** DEAD_LETTER: messages that can never be processed, with the reason in a header. Created when missing, like EVENTS. */
export function ensureDeadLetterStream(
  jsm: JetStreamManager,
  settings: EventsStreamSettings = { maxAgeSeconds: 14 * 86400, maxBytes: 128 * 1024 ** 2, replicas: 1 },
) {
  return ensureStream(
    jsm,
    {
      name: Streams.deadLetter,
      subjects: [Subjects.deadLetterWildcard],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      // Bounded so a flood of garbage cannot fill the disk; the oldest parked messages go first.
      discard: DiscardPolicy.Old,
      max_age: nanos(settings.maxAgeSeconds),
      max_bytes: settings.maxBytes,
      // A parked message is at most one agent message plus its headers.
      max_msg_size: 2 * 1024 * 1024,
      num_replicas: settings.replicas,
      ...TAMPER_PROOF,
    },
    { update: false },
  );
}
