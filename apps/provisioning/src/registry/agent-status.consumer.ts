import { Inject, Injectable, Logger } from '@nestjs/common';
import { JSONCodec, NatsConnection } from 'nats';
import { AgentVersionData, Consumers, EventEnvelope, EventKinds, Subjects } from '@app/contracts';
import { DurableEventConsumer, NATS_CONNECTION, PoisonEventError } from '@app/messaging';
import { ProvisioningConfig } from '../config';
import { HeardStatus } from './agents.repository';
import { RegistryService } from './registry.service';

/** Shared by every provisioning instance, so each event is applied once across them. */
export const AGENT_STATUS_CONSUMER = Consumers.agentStatus;

const json = JSONCodec<EventEnvelope<Partial<AgentVersionData>>>();

/**
 * Keeps the registry's status and version in step with ingestion: the durable consumer
 * `provisioning-agent-status` on `events.agent.*`, applying `agent.online` / `offline` / `degraded` /
 * `recovered` / `stopped` / `version_changed` and acking after the write. An event that cannot be applied (malformed, or failing 5 deliveries for a reason
 * other than a database outage) is parked on `deadletter.provisioning-agent-status`, not dropped.
 */
@Injectable()
export class AgentStatusConsumer extends DurableEventConsumer {
  protected readonly logger = new Logger(AgentStatusConsumer.name);

  constructor(
    private readonly registry: RegistryService,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    config: ProvisioningConfig,
  ) {
    super(nc, {
      name: AGENT_STATUS_CONSUMER,
      // agent.registered / agent.revoked also match; they are acked and skipped.
      filterSubject: Subjects.event('agent.*'),
      maxFailures: 5,
      eventsReplicas: config.EVENTS_STREAM_REPLICAS,
      deadLetterReplicas: config.DEAD_LETTER_STREAM_REPLICAS,
    });
  }

  protected async handle(data: Uint8Array): Promise<void> {
    let event: EventEnvelope<Partial<AgentVersionData>>;
    try {
      event = json.decode(data);
    } catch {
      throw new PoisonEventError('event is not JSON');
    }
    const status = STATUS_OF[event.kind];
    if (!status && event.kind !== EventKinds.agentVersionChanged) return;
    if (!event.agentId || !event.organizationId || typeof event.data?.lastSeenAt !== 'number') {
      throw new PoisonEventError('liveness event without agentId, organizationId or data.lastSeenAt');
    }
    if (status) {
      await this.registry.applyLiveness(event.organizationId, event.agentId, status, event.data.lastSeenAt);
      return;
    }
    const version = event.data.version;
    if (typeof version !== 'string' || !version || version.length > 64)
      throw new PoisonEventError('agent.version_changed without a data.version of 1-64 characters');
    await this.registry.applyVersion(event.organizationId, event.agentId, version);
  }
}

/** The registry status each of ingestion's status events sets. */
const STATUS_OF: Partial<Record<string, HeardStatus>> = {
  [EventKinds.agentOnline]: 'online',
  [EventKinds.agentRecovered]: 'online',
  [EventKinds.agentDegraded]: 'degraded',
  [EventKinds.agentStopped]: 'stopped',
  [EventKinds.agentOffline]: 'offline',
};
