import { Inject, Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy, JSONCodec, NatsConnection } from 'nats';
import { AgentLivenessData, EventEnvelope, EventKinds, Streams, Subjects } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';

export interface RecentOffline {
  agentId: string;
  /** Filled in by the summary from the registry; null when the agent is gone. */
  hostname?: string | null;
  environment: string | null;
  at: string;
  silentForMs: number | null;
}

/** Bounds one scan of the EVENTS stream: a summary must answer in well under a second. */
export const MAX_OFFLINE_EVENTS_SCANNED = 5000;
const FETCH_EXPIRES_MS = 2000;

const json = JSONCodec<EventEnvelope<AgentLivenessData>>();

/**
 * "Which agents went offline in the last hour" is a question about events, not about current
 * state, so it is answered from the EVENTS stream: an ephemeral ordered consumer starting at
 * `since`, filtered to `events.agent.offline`, read up to what is pending now.
 */
@Injectable()
export class RecentOfflineReader {
  private readonly logger = new Logger(RecentOfflineReader.name);

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** Latest offline event per agent of `organizationId` since `since` (ms), newest first; null when EVENTS cannot be read. */
  async read(
    organizationId: string,
    since: number,
  ): Promise<{ agents: RecentOffline[]; truncated: boolean } | null> {
    try {
      const consumer = await this.nc.jetstream().consumers.get(Streams.events, {
        filterSubjects: Subjects.event(EventKinds.agentOffline),
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(since).toISOString(),
      });
      const pending = (await consumer.info()).num_pending;
      const latest = new Map<string, RecentOffline>();
      if (pending > 0) {
        const wanted = Math.min(pending, MAX_OFFLINE_EVENTS_SCANNED);
        const messages = await consumer.fetch({ max_messages: wanted, expires: FETCH_EXPIRES_MS });
        let seen = 0;
        for await (const message of messages) {
          const event = json.decode(message.data);
          if (event.organizationId === organizationId && event.agentId) {
            latest.set(event.agentId, {
              agentId: event.agentId,
              environment: event.environment ?? null,
              at: event.occurredAt,
              silentForMs: event.data?.silentForMs ?? null,
            });
          }
          if (++seen >= wanted) break;
        }
      }
      await consumer.delete().catch(() => undefined);
      const agents = [...latest.values()].sort((a, b) => b.at.localeCompare(a.at));
      return { agents, truncated: pending > MAX_OFFLINE_EVENTS_SCANNED };
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read recent offline events');
      return null;
    }
  }
}
