import { Inject, Injectable } from '@nestjs/common';
import { MetricsBatch } from '@app/contracts';
import { Clock } from '@app/clock';
import { IngestionConfig } from '../config';
import { AgentsRepository } from '../liveness/agents.repository';
import { BatchToStore, MetricsRepository, StoreResult } from './metrics.repository';

/** A verified batch: its body and the agent's organisation. */
export interface VerifiedBatch {
  batch: MetricsBatch;
  organizationId: string;
  environment: string;
}

/** Stores verified batches (as they came, no copy per sample) in one transaction, exactly once per (agent, seq). */
@Injectable()
export class MetricsWriter {
  /** Agents this process has already registered; registering is needed once per agent, not per batch. */
  private readonly registered = new Set<string>();

  constructor(
    private readonly repository: MetricsRepository,
    private readonly agents: AgentsRepository,
    @Inject(Clock) private readonly clock: Clock,
    private readonly config: IngestionConfig,
  ) {}

  async writeBatch(batches: VerifiedBatch[]): Promise<StoreResult> {
    const bodies: BatchToStore[] = [];
    const seen = new Set<string>();
    const newAgents = new Map<string, { agentId: string; organizationId: string; environment: string }>();
    for (const { batch, organizationId, environment } of batches) {
      const key = `${batch.agentId}:${batch.seq}`;
      // The same (agent, seq) twice in one fetch (an agent resend outside the duplicate window): store it once.
      if (seen.has(key)) continue;
      seen.add(key);
      bodies.push(batch);
      if (!this.registered.has(batch.agentId))
        newAgents.set(batch.agentId, { agentId: batch.agentId, organizationId, environment });
    }
    const now = this.clock.now();
    // Registration first: the query path scopes by the agent's organisation, so stored samples must have an owner.
    await this.agents.registerIfMissing(
      [...newAgents.values()],
      this.config.DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
      now,
    );
    for (const id of newAgents.keys()) this.registered.add(id);
    return this.repository.storeBatches(bodies, now);
  }
}
