/** Sequence numbers reserved per state-file write: one write per this many batches, at most this gap after a restart. */
export const SEQ_RESERVATION_BLOCK = 1000;

/**
 * Metrics batch sequence numbers (`Nats-Msg-Id` = `<agentId>:<seq>`), never reused across restarts.
 * A run starts at max(now in ms, the ceiling the last run reserved): the clock alone would be enough
 * while it only moves forward (a run uses at most one number per collection, and collections are ≥ 1 s
 * apart), the persisted ceiling covers a clock stepped backwards. Numbers are reserved in blocks so the
 * state file is written once per SEQ_RESERVATION_BLOCK batches, not per batch.
 */
export class AgentSequence {
  private next: number;
  private ceiling: number;

  constructor(
    persistedCeiling: number | undefined,
    now: number,
    private readonly persistCeiling: (ceiling: number) => void,
  ) {
    this.next = Math.max(Math.floor(now), persistedCeiling ?? 0);
    this.ceiling = this.next;
  }

  take(): number {
    if (this.next >= this.ceiling) {
      this.ceiling = this.next + SEQ_RESERVATION_BLOCK;
      this.persistCeiling(this.ceiling);
    }
    return this.next++;
  }
}
