/**
 * Token-bucket rate limiter keyed by an opaque string: each key may spend `capacity` at once,
 * refilled at `capacity` per `periodMs`. Idle full buckets are forgotten, so memory follows the
 * number of keys active in the last period, not every key ever seen.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly ratePerMs: number;

  constructor(
    private readonly capacity: number,
    periodMs: number,
    private readonly now: () => number,
  ) {
    this.ratePerMs = capacity / periodMs;
  }

  /** Spends one unit for `key`; false when the bucket is empty. */
  tryTake(key: string): boolean {
    const now = this.now();
    this.forgetIdle(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    const tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.ratePerMs);
    // Re-inserting keeps the map ordered by last use, which forgetIdle relies on.
    this.buckets.delete(key);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return false;
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetIdle(now: number): void {
    const fullAfterMs = this.capacity / this.ratePerMs;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at < fullAfterMs) break;
      this.buckets.delete(key);
    }
  }
}
