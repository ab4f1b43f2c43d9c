/** Delay before retry `attempt + 1` after `attempt` failures: base · 2^(attempt−1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
