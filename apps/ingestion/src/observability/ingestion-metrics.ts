import { Counter, Gauge, Histogram } from 'prom-client';
import { ServiceMetrics } from '@app/observability';

export type MessageKind = 'heartbeat' | 'metrics';

/**
 * The service's own Prometheus metrics, in a registry per instance (tests run several
 * instances in one process; the default global registry would collide).
 */
export class IngestionMetrics extends ServiceMetrics {
  readonly received = new Counter({
    name: 'ingestion_messages_received_total',
    help: 'Agent messages received, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly accepted = new Counter({
    name: 'ingestion_messages_accepted_total',
    help: 'Agent messages accepted (heartbeats recorded, metric batches committed or already stored)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'ingestion_rejected_total',
    help: 'Agent messages refused, by kind and reason',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'ingestion_dead_lettered_total',
    help: 'Metric messages parked on the dead-letter stream',
    registers: [this.registry],
  });
  readonly batchMessages = new Histogram({
    name: 'ingestion_batch_messages',
    help: 'Messages per fetched metrics batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  });
  readonly batchSamples = new Histogram({
    name: 'ingestion_batch_samples',
    help: 'Samples written per database commit',
    buckets: [10, 100, 1000, 5000, 10000, 25000, 50000, 100000],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'ingestion_commit_seconds',
    help: 'Time to write and commit one metrics batch',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly remoteWriteRequests = new Counter({
    name: 'ingestion_remote_write_requests_total',
    help: 'Remote-write requests sent, by outcome (ok, retry: receiver unavailable or 429/5xx, rejected: other 4xx)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly remoteWriteSamples = new Counter({
    name: 'ingestion_remote_write_samples_total',
    help: 'Samples the remote-write receiver accepted',
    registers: [this.registry],
  });
  readonly samplesStored = new Counter({
    name: 'ingestion_samples_stored_total',
    help: 'Samples committed to the database',
    registers: [this.registry],
  });
  readonly batchesStored = new Counter({
    name: 'ingestion_metric_batches_stored_total',
    help: 'Metric batches committed to the database (first delivery)',
    registers: [this.registry],
  });
  readonly auditChecked = new Counter({
    name: 'ingestion_audit_checked_total',
    help: 'AGENT_METRICS messages the metrics audit checked against the store',
    registers: [this.registry],
  });
  readonly auditRepaired = new Counter({
    name: 'ingestion_audit_repaired_total',
    help: 'Metric batches JetStream counted delivered without a row, stored by the metrics audit',
    registers: [this.registry],
  });
  readonly auditPosition = new Gauge({
    name: 'ingestion_audit_position',
    help: 'AGENT_METRICS sequence the metrics audit has checked up to',
    registers: [this.registry],
  });
  readonly duplicateBatches = new Counter({
    name: 'ingestion_metric_batches_duplicate_total',
    help: 'Redelivered metric batches that were already stored and were acked without writing',
    registers: [this.registry],
  });
  readonly storageFailures = new Counter({
    name: 'ingestion_storage_failures_total',
    help: 'Batches that could not be committed and were handed back to JetStream with a delay',
    registers: [this.registry],
  });
  readonly consumerPending = new Gauge({
    name: 'ingestion_consumer_pending_messages',
    help: 'Messages in AGENT_METRICS not yet delivered to the ingestion consumer (lag)',
    registers: [this.registry],
  });
  readonly consumerAckPending = new Gauge({
    name: 'ingestion_consumer_ack_pending_messages',
    help: 'Messages delivered but not yet acknowledged',
    registers: [this.registry],
  });
  readonly agentsOnline = new Gauge({
    name: 'ingestion_agents_online',
    help: 'Agents currently online (shared view, from the database)',
    registers: [this.registry],
  });
  readonly agentsTracked = new Gauge({
    name: 'ingestion_agents_tracked',
    help: 'Agents ingestion has seen',
    registers: [this.registry],
  });

  /** Sum of a counter over its labels, for the stats RPC. */
  async total(counter: Counter<string>, filter: Record<string, string> = {}): Promise<number> {
    const { values } = await counter.get();
    return values
      .filter((v) => Object.entries(filter).every(([k, want]) => v.labels[k] === want))
      .reduce((sum, v) => sum + v.value, 0);
  }

  async rejectedByReason(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const v of (await this.rejected.get()).values) {
      const reason = String(v.labels.reason);
      out[reason] = (out[reason] ?? 0) + v.value;
    }
    return out;
  }
}
