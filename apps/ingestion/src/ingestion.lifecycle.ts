import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { NatsConnection } from 'nats';
import { AgentDirectory } from '@app/auth';
import { ensureDeadLetterStream, ensureEventsStream, NATS_CONNECTION } from '@app/messaging';
import { EventOutbox } from '@app/outbox';
import { IngestionConfig } from './config';
import { HeartbeatSubscriber } from './heartbeats/heartbeat-subscriber';
import { LivenessTracker } from './liveness/liveness-tracker';
import { ExhaustedDeliveryParker } from './metrics/exhausted-deliveries';
import { MetricsAudit } from './metrics/metrics-audit';
import { MetricsConsumer } from './metrics/metrics-consumer';
import { MetricsRepository } from './metrics/metrics.repository';
import { ensureMetricsStream } from './metrics/metrics-stream';
import { RetentionJob } from './retention/retention-job';
import { CompactionJob } from './compaction/compaction-job';
import { AgentFactsDirectory } from './remote-write/agent-facts.directory';
import { RemoteWriteClient } from './remote-write/remote-write.client';
import { ensureRemoteWriteConsumer, RemoteWriteConsumer } from './remote-write/remote-write.consumer';

/**
 * Starts the pipelines once the database is migrated and NATS is connected, and stops them in
 * the order that loses nothing: stop taking heartbeats, finish the metrics batch in hand, write
 * the last-seen map, publish the events that produced, then let the connection drain and the
 * database close (an event still in the outbox then is published by the next start or another instance).
 */
@Injectable()
export class IngestionLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IngestionLifecycle.name);

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly config: IngestionConfig,
    private readonly directory: AgentDirectory,
    private readonly heartbeats: HeartbeatSubscriber,
    private readonly liveness: LivenessTracker,
    private readonly consumer: MetricsConsumer,
    private readonly audit: MetricsAudit,
    private readonly exhausted: ExhaustedDeliveryParker,
    private readonly retention: RetentionJob,
    private readonly compaction: CompactionJob,
    private readonly repository: MetricsRepository,
    private readonly outbox: EventOutbox,
    // Present when METRICS_SINKS includes remote_write.
    @Optional() private readonly remoteWrite?: RemoteWriteConsumer,
    @Optional() private readonly agentFacts?: AgentFactsDirectory,
    @Optional() private readonly remoteWriteClient?: RemoteWriteClient,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await ensureEventsStream(jsm, { replicas: this.config.EVENTS_STREAM_REPLICAS });
    await ensureDeadLetterStream(jsm, { replicas: this.config.DEAD_LETTER_STREAM_REPLICAS });
    const stream = await ensureMetricsStream(jsm, this.config);
    if (stream.reservable !== undefined)
      this.logger.warn(
        { maxBytes: stream.maxBytes, reservableBytes: stream.reservable },
        'AGENT_METRICS sized to half of what JetStream can reserve (less than the 8 GiB default; METRICS_STREAM_MAX_BYTES unset)',
      );
    await this.repository.tuneForIngestion(this.config.SQLITE_CACHE_MIB);
    this.directory.start();
    this.outbox.start();
    this.liveness.start();
    this.heartbeats.start();
    if (this.config.sinks().includes('store')) {
      this.consumer.start();
      this.exhausted.start();
      this.audit.start();
    }
    if (this.remoteWrite) {
      await ensureRemoteWriteConsumer(jsm);
      this.agentFacts?.start();
      this.remoteWrite.start();
    }
    this.retention.start();
    this.compaction.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.heartbeats.stop();
    this.exhausted.stop();
    await this.audit.stop();
    await this.consumer.stop();
    await this.remoteWrite?.stop();
    this.agentFacts?.stop();
    this.remoteWriteClient?.close();
    await this.liveness.stop();
    await this.outbox.relay();
    await this.outbox.stop();
    await this.retention.stop();
    await this.compaction.stop();
    this.directory.stop();
  }
}
