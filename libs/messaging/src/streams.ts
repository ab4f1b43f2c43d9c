import { JetStreamManager, RetentionPolicy, StorageType, StreamConfig, NatsError } from 'nats';
import { Streams, Subjects } from '@app/contracts';

const nanos = (seconds: number) => seconds * 1_000_000_000;

/**
 * Creates a stream, or updates the settings we own when it exists (so a changed retention
 * reaches a running deployment). Safe to call from every instance at start-up.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, { ...info.config, ...config });
  } catch (error) {
    if (
      error instanceof NatsError &&
      (error.api_error?.err_code === 10059 || /not found/i.test(error.message))
    ) {
      await jsm.streams.add(config);
      return;
    }
    throw error;
  }
}

export interface EventsStreamSettings {
  maxAgeSeconds: number;
  replicas: number;
}

/** EVENTS: facts for internal consumers; de-duplicated by event id. */
export function ensureEventsStream(
  jsm: JetStreamManager,
  settings: EventsStreamSettings = { maxAgeSeconds: 7 * 86400, replicas: 1 },
) {
  return ensureStream(jsm, {
    name: Streams.events,
    subjects: [Subjects.eventsWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(settings.maxAgeSeconds),
    duplicate_window: nanos(120),
    num_replicas: settings.replicas,
  });
}

/** DEAD_LETTER: messages that can never be processed, with the reason in a header. */
export function ensureDeadLetterStream(
  jsm: JetStreamManager,
  settings: EventsStreamSettings = { maxAgeSeconds: 14 * 86400, replicas: 1 },
) {
  return ensureStream(jsm, {
    name: Streams.deadLetter,
    subjects: [Subjects.deadLetterWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(settings.maxAgeSeconds),
    num_replicas: settings.replicas,
  });
}
