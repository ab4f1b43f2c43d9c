/** Upper bounds a percentage axis snaps to: a 2 % CPU reads against 5 %, a 40 % disk against 50 %. */
const PERCENT_CEILINGS = [1, 2, 5, 10, 20, 25, 50, 100];
/** Below this relative spread a line is flat for a reader; drawing it full height invents a trend. */
const FLAT_SPREAD = 0.01;
/** How much room a flat or nearly flat line gets above and below it, relative to its value. */
const FLAT_PADDING = 0.1;

/**
 * The y-axis range of a chart from its data's minimum and maximum. Percentages start at 0 and end
 * at a round bound (100 when they reach it; above 100 for multi-core CPU), so 40.001–40.007 % is
 * a flat line at 40 % rather than a cliff. Other units keep the data's range, unless it is nearly
 * flat: then the line sits in the middle with padding, and counts never go below 0.
 */
export function yRange(unit: string | null, min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (unit === '%' && min >= 0) {
    const top = max * 1.1;
    if (max <= 100) return [0, PERCENT_CEILINGS.find((c) => c >= top) ?? 100];
    return [0, niceCeiling(top)];
  }
  const magnitude = Math.max(Math.abs(min), Math.abs(max));
  if (max - min > magnitude * FLAT_SPREAD) return [min, max];
  const pad = magnitude === 0 ? 1 : magnitude * FLAT_PADDING;
  const low = min >= 0 ? Math.max(0, min - pad) : min - pad;
  return [low, max + pad];
}

/** 137 → 150, 420 → 500: 1, 1.5, 2, 2.5, 5 times a power of ten. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.5, 2, 2.5, 5, 10].find((s) => s * power >= value)!;
  return step * power;
}
