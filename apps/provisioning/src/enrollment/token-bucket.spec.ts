import { TokenBucketLimiter } from './token-bucket';

describe(TokenBucketLimiter.name, () => {
  const setup = (capacity: number, periodMs: number) => {
    let now = 1_000_000;
    const limiter = new TokenBucketLimiter(capacity, periodMs, () => now);
    return { limiter, advance: (ms: number) => (now += ms) };
  };

  it('allows a burst up to the capacity and refuses the next request', () => {
    const { limiter } = setup(3, 60_000);
    expect([1, 2, 3, 4].map(() => limiter.tryTake('a'))).toEqual([true, true, true, false]);
  });

  it('refills at capacity per period', () => {
    const { limiter, advance } = setup(3, 60_000);
    for (let i = 0; i < 3; i++) limiter.tryTake('a');
    advance(19_999);
    expect(limiter.tryTake('a')).toBe(false);
    advance(1);
    expect(limiter.tryTake('a')).toBe(true);
    expect(limiter.tryTake('a')).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const { limiter } = setup(1, 60_000);
    expect(limiter.tryTake('a')).toBe(true);
    expect(limiter.tryTake('a')).toBe(false);
    expect(limiter.tryTake('b')).toBe(true);
  });

  it('forgets keys that have been idle long enough to be full again', () => {
    const { limiter, advance } = setup(2, 60_000);
    limiter.tryTake('a');
    limiter.tryTake('b');
    advance(60_000);
    limiter.tryTake('c');
    expect(limiter.size).toBe(1);
  });
});
