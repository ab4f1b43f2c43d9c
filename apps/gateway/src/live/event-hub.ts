import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { JSONCodec, NatsConnection, Subscription } from 'nats';
import { EventEnvelope, Subjects } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';

export type EventListener = (event: EventEnvelope) => void;

interface Registration {
  onEvent: EventListener;
  /** Called when the hub shuts down, so the stream can end its response. */
  onEnd: () => void;
}

const json = JSONCodec<unknown>();
const SUBSCRIBE_CONFIRM_MAX_MS = 2000;

function isEnvelope(value: unknown): value is EventEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<EventEnvelope>;
  return (
    typeof candidate.id === 'string' &&
    typeof candidate.kind === 'string' &&
    typeof candidate.organizationId === 'string'
  );
}

/**
 * Fans the EVENTS subjects out to this gateway's live listeners, per organisation. One core
 * subscription on `events.>` serves every open stream, and exists only while someone listens:
 * a gateway nobody watches pays nothing for a busy fleet. Core delivery (not a JetStream
 * consumer) is deliberate: a live view wants what happens now, and reloads the rest over HTTP.
 */
@Injectable()
export class EventHub implements OnModuleDestroy {
  private readonly logger = new Logger(EventHub.name);
  private readonly listeners = new Map<string, Set<Registration>>();
  private subscription?: Subscription;
  private confirmed: Promise<void> = Promise.resolve();

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /**
   * Calls `onEvent` with each event of `organizationId` until the returned function is called;
   * `onEnd` when the gateway shuts down (open HTTP streams would otherwise hold the shutdown).
   */
  listen(organizationId: string, onEvent: EventListener, onEnd: () => void = () => undefined): () => void {
    let set = this.listeners.get(organizationId);
    if (!set) {
      set = new Set();
      this.listeners.set(organizationId, set);
    }
    const registration: Registration = { onEvent, onEnd };
    set.add(registration);
    this.subscribe();
    return () => {
      const current = this.listeners.get(organizationId);
      if (!current) return;
      current.delete(registration);
      if (current.size === 0) this.listeners.delete(organizationId);
      if (this.listeners.size === 0) this.unsubscribe();
    };
  }

  /** How many listeners are attached (all organisations). */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /**
   * Resolves once the NATS server has the `events.>` subscription (a flush round trip), so a
   * listener told "ready" misses nothing published after that. Bounded: a disconnected server
   * would otherwise hold it until the reconnect.
   */
  subscribed(): Promise<void> {
    return this.confirmed;
  }

  /** Whether the `events.>` subscription is open (only while someone listens). */
  get isSubscribed(): boolean {
    return this.subscription !== undefined;
  }

  onModuleDestroy(): void {
    const registrations = [...this.listeners.values()].flatMap((set) => [...set]);
    this.listeners.clear();
    this.unsubscribe();
    for (const registration of registrations) registration.onEnd();
  }

  private subscribe(): void {
    if (this.subscription || this.nc.isClosed()) return;
    this.subscription = this.nc.subscribe(Subjects.eventsWildcard, {
      callback: (error, msg) => {
        if (error) {
          this.logger.warn({ err: error }, 'events subscription error');
          return;
        }
        let decoded: unknown;
        try {
          decoded = json.decode(msg.data);
        } catch {
          // Not ours to repair: the EVENTS stream's producers validate; a live view just skips it.
          return;
        }
        if (isEnvelope(decoded)) this.dispatch(decoded);
      },
    });
    let timer: NodeJS.Timeout | undefined;
    this.confirmed = Promise.race([
      this.nc.flush().catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_CONFIRM_MAX_MS))),
    ]).finally(() => clearTimeout(timer));
  }

  private unsubscribe(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private dispatch(event: EventEnvelope): void {
    const set = this.listeners.get(event.organizationId);
    if (!set) return;
    for (const registration of [...set]) {
      try {
        registration.onEvent(event);
      } catch (error) {
        this.logger.warn({ err: error }, 'live listener failed');
      }
    }
  }
}
