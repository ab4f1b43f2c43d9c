/** A batch ready to send: its sequence number and its encoded body (kept encoded: smaller than objects). */
export interface PendingBatch {
  seq: number;
  data: Uint8Array;
}

export interface MetricsBufferLimits {
  maxBatches: number;
  maxBytes: number;
}

/**
 * Default bound of the outage buffer: 1000 batches (≈ 2.8 h at the default 10 s interval) and 16 MiB,
 * whichever is reached first. When full, the OLDEST batch is dropped: recent data is worth more to an
 * incident investigation than data from hours ago.
 */
export const DEFAULT_BUFFER_LIMITS: MetricsBufferLimits = { maxBatches: 1000, maxBytes: 16 * 1024 * 1024 };

/** FIFO of batches waiting for a JetStream ack; bounded, drops oldest first and counts what it drops. */
export class MetricsBuffer {
  private readonly queue: PendingBatch[] = [];
  private bytes = 0;
  /** Batches dropped since the agent started (reported in every heartbeat). */
  dropped = 0;

  constructor(private readonly limits: MetricsBufferLimits = DEFAULT_BUFFER_LIMITS) {}

  get size(): number {
    return this.queue.length;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** 0 to 1: how close the buffer is to dropping (the fuller of its two limits); sent in heartbeats. */
  get fill(): number {
    return Math.min(
      1,
      Math.max(this.queue.length / this.limits.maxBatches, this.bytes / this.limits.maxBytes),
    );
  }

  push(batch: PendingBatch): void {
    this.queue.push(batch);
    this.bytes += batch.data.byteLength;
    while (
      this.queue.length > 1 &&
      (this.queue.length > this.limits.maxBatches || this.bytes > this.limits.maxBytes)
    ) {
      this.bytes -= this.queue.shift()!.data.byteLength;
      this.dropped++;
    }
  }

  peek(): PendingBatch | undefined {
    return this.queue[0];
  }

  /** Removes the head once it is acknowledged. */
  shift(): void {
    const head = this.queue.shift();
    if (head) this.bytes -= head.data.byteLength;
  }
}
