/** Numbers with their units, for chart axes and legends. Units are the declared metric units (UCUM-like). */

const SCALED_UNITS: Record<string, { base: number; names: string[] }> = {
  By: { base: 1024, names: ['B', 'KiB', 'MiB', 'GiB', 'TiB'] },
  'By/s': { base: 1024, names: ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s'] },
};

/** The suffix of a unit that is not scaled; `1` (a count) has none. */
function plainSuffix(unit: string | null): string {
  return unit && unit !== '1' ? ` ${unit}` : '';
}

/** The largest binary multiple at or below `magnitude`: 1536 By → KiB (divisor 1024). */
function scaleFor(magnitude: number, unit: string): { divisor: number; name: string } | null {
  const scaled = SCALED_UNITS[unit];
  if (!scaled) return null;
  let divisor = 1;
  let i = 0;
  while (magnitude / divisor >= scaled.base && i < scaled.names.length - 1) {
    divisor *= scaled.base;
    i += 1;
  }
  return { divisor, name: scaled.names[i] };
}

/** One value, e.g. in a legend: `1.5 MiB`, `42.0 %`, `3`. */
export function formatValue(value: number | null | undefined, unit: string | null): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const scale = unit ? scaleFor(Math.abs(value), unit) : null;
  if (scale) {
    const scaled = value / scale.divisor;
    return `${scaled.toFixed(scale.divisor === 1 || Math.abs(scaled) >= 100 ? 0 : 1)} ${scale.name}`;
  }
  if (unit === '%') return `${value.toFixed(1)} %`;
  return `${Number.isInteger(value) ? value : value.toFixed(2)}${plainSuffix(unit)}`;
}

/**
 * Axis labels for one set of ticks: one scale for the whole axis (so 512 KiB and 1.5 MiB are not
 * mixed) and just enough decimals to tell neighbouring ticks apart.
 */
export function formatTicks(ticks: number[], unit: string | null): string[] {
  const largest = Math.max(0, ...ticks.map(Math.abs));
  const scale = unit ? scaleFor(largest, unit) : null;
  const divisor = scale?.divisor ?? 1;
  const suffix = scale ? ` ${scale.name}` : plainSuffix(unit);
  const spacing = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) / divisor : 1;
  // The epsilon absorbs float noise: 23.93 - 23.92 is 0.00999…, which still needs only 2 decimals.
  const decimals = spacing > 0 ? Math.min(6, Math.max(0, Math.ceil(-Math.log10(spacing) - 1e-6))) : 0;
  return ticks.map((t) => `${(t / divisor).toFixed(decimals)}${suffix}`);
}
