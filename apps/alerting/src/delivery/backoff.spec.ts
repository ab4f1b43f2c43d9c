import { retryDelayMs } from './backoff';

describe('delivery retry backoff', () => {
  it('doubles after each failure and stops growing at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, 1000, 10_000))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });
});
