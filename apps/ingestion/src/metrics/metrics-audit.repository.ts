import { Inject, Injectable } from '@nestjs/common';
import { Database, DATABASE } from '@app/persistence';
import { IngestionDB } from '../database';

/** The one audit position (AGENT_METRICS is one stream; every instance shares it). */
const POSITION_ID = 'agent_metrics';

export interface BatchKey {
  agentId: string;
  seq: number;
}

/**
 * The metrics audit's state: how far AGENT_METRICS has been checked against the store, and which
 * instance holds the lease to check the next part (one at a time; a lease whose holder died expires).
 */
@Injectable()
export class MetricsAuditRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<IngestionDB>) {}

  /** The stream sequence checked so far; undefined before the first audit of this database. */
  async position(): Promise<number | undefined> {
    const row = await this.database.db
      .selectFrom('metrics_audit')
      .select('audited_seq')
      .where('id', '=', POSITION_ID)
      .executeTakeFirst();
    return row ? Number(row.audited_seq) : undefined;
  }

  /** Creates the position at `seq` unless another instance did first. */
  async initialize(seq: number): Promise<void> {
    await this.database.db
      .insertInto('metrics_audit')
      .values({ id: POSITION_ID, audited_seq: seq, lease_owner: '', lease_until: 0 })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** Takes (or extends) the lease when it is free, expired or already `owner`'s; true when `owner` holds it. */
  async claim(owner: string, now: number, leaseMs: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('metrics_audit')
      .set({ lease_owner: owner, lease_until: now + leaseMs })
      .where('id', '=', POSITION_ID)
      .where((eb) => eb.or([eb('lease_until', '<', now), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Moves the position to `seq` (forwards only, or to 0 when the stream was recreated) while `owner` holds the lease. */
  async advance(owner: string, seq: number): Promise<void> {
    await this.database.db
      .updateTable('metrics_audit')
      .set({ audited_seq: seq })
      .where('id', '=', POSITION_ID)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async release(owner: string): Promise<void> {
    await this.database.db
      .updateTable('metrics_audit')
      .set({ lease_until: 0 })
      .where('id', '=', POSITION_ID)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Which of `keys` have a stored batch (`<agentId>:<seq>`). One indexed query per call; keep calls to ~1,000 keys. */
  async storedKeys(keys: BatchKey[]): Promise<Set<string>> {
    const stored = new Set<string>();
    if (!keys.length) return stored;
    // A superset (every agent × every seq of the chunk) filtered here: portable, and seqs are per-agent unique enough
    // that the superset is barely larger than the chunk.
    const rows = await this.database.db
      .selectFrom('metric_batches')
      .select(['agent_id', 'seq'])
      .where('agent_id', 'in', [...new Set(keys.map((k) => k.agentId))])
      .where('seq', 'in', [...new Set(keys.map((k) => k.seq))])
      .execute();
    for (const row of rows) stored.add(`${row.agent_id}:${Number(row.seq)}`);
    return stored;
  }
}
