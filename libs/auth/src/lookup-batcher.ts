/**
 * Lookups asked for within this window share one request. A burst of new agents reaches a service
 * over many socket reads, so the window must outlast a few of them; 5 ms is still small next to the
 * round trip and the answering service's query.
 */
export const LOOKUP_BATCH_WINDOW_MS = 5;

/** One answer per key, in the order of the keys sent. */
export type BatchOutcome<V> = { ok: true; value: V } | { ok: false; error: unknown };

interface Waiter<K, V> {
  key: K;
  resolve(value: V): void;
  reject(error: unknown): void;
}

/**
 * Coalesces lookups: what arrives within the window, or the first `maxItems` of it, goes out as one
 * request answered with one database query, so a flood of unknown keys costs the answering service
 * hundreds of requests, not tens of thousands. A transport error fails every waiter of its batch.
 */
export class LookupBatcher<K, V> {
  private waiting: Waiter<K, V>[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly send: (keys: K[]) => Promise<BatchOutcome<V>[]>,
    private readonly maxItems: number,
    private readonly windowMs = LOOKUP_BATCH_WINDOW_MS,
  ) {}

  lookup(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      if (this.waiting.length >= this.maxItems) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    this.send(batch.map((w) => w.key)).then(
      (outcomes) =>
        batch.forEach((waiter, i) => {
          const outcome = outcomes[i];
          if (!outcome) waiter.reject(new Error('the batch answer has fewer items than the request'));
          else if (outcome.ok) waiter.resolve(outcome.value);
          else waiter.reject(outcome.error);
        }),
      (error: unknown) => batch.forEach((waiter) => waiter.reject(error)),
    );
  }
}
