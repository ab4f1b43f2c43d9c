import { RateLimitedError } from '@app/contracts';

interface Waiter {
  enqueuedAt: number;
  start: () => void;
  refuse: (error: Error) => void;
}

/**
 * Bounds how many enrollments run at once. Without it an enrollment storm starts every request
 * together, they all finish after the agents' request timeout, and every agent retries: nothing
 * completes. Past the limit requests queue; a full queue, or a request that waited longer than
 * `maxWaitMs` (its agent has given up by then), is refused at once with RATE_LIMITED, which agents
 * retry with backoff.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
    private readonly maxWaitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  private acquire(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) return Promise.reject(new RateLimitedError('enrollment is busy'));
    return new Promise((start, refuse) => this.queue.push({ enqueuedAt: this.now(), start, refuse }));
  }

  private release(): void {
    this.running--;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      if (this.now() - next.enqueuedAt > this.maxWaitMs) {
        next.refuse(new RateLimitedError('enrollment is busy'));
        continue;
      }
      this.running++;
      next.start();
      return;
    }
  }
}
