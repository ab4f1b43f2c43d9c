/** Deterministic pseudo-random numbers in [0, 1) (a linear congruential generator), so a failure replays. */
export function seededRandom(seed: number): () => number {
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}
