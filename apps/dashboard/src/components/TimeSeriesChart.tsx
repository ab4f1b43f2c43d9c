import { useEffect, useRef } from 'react';
import uPlot, { AlignedData, Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricSeries } from '../api/types';
import { formatTicks, formatValue } from './format';
import { yRange } from './y-range';

/** Colour-blind-safe palette (Okabe–Ito), dark enough for contrast on white. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#7f7f7f'];
/** More lines than this turn a chart into noise; the rest are listed as left out. */
export const MAX_LINES = 8;

function seriesLabel(tags: Record<string, string>): string {
  const entries = Object.entries(tags);
  return entries.length === 0 ? 'value' : entries.map(([k, v]) => `${k}=${v}`).join(' ');
}

/** Points of every series aligned on one time axis (uPlot wants columns), averages per bucket. */
export function alignSeries(series: MetricSeries[]): AlignedData {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.ts)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const column: (number | null)[] = new Array(times.length).fill(null);
    for (const point of s.points) column[index.get(point.ts)!] = point.avg;
    return column;
  });
  return [times.map((t) => t / 1000), ...columns] as AlignedData;
}

/** One metric over time: a line per tag set (per interface, container, mount…). */
export function TimeSeriesChart({
  title,
  series,
  unit,
  from,
  to,
}: {
  title: string;
  series: MetricSeries[];
  unit: string | null;
  from: number;
  to: number;
}) {
  const container = useRef<HTMLDivElement>(null);
  const shown = series.slice(0, MAX_LINES);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const options: Options = {
      width: Math.max(280, element.clientWidth),
      height: 200,
      scales: {
        x: { time: true, min: from / 1000, max: to / 1000 },
        // uPlot would stretch any spread to full height; a percentage or a flat line needs a sensible range.
        y: { range: (_u, min, max) => yRange(unit, min, max) },
      },
      axes: [{}, { values: (_u, ticks) => formatTicks(ticks, unit), size: 90 }],
      series: [
        {},
        ...shown.map((s, i) => ({
          label: seriesLabel(s.tags),
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => formatValue(v, unit),
        })),
      ],
      legend: { show: true },
    };
    const plot = new uPlot(options, alignSeries(shown), element);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, element.clientWidth), height: 200 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, unit, from, to]);

  const points = shown.reduce((n, s) => n + s.points.length, 0);
  return (
    <figure className="chart" aria-label={`${title} chart`}>
      <figcaption>
        <strong>{title}</strong>
        {unit && <span className="muted"> ({unit})</span>}
        <span className="muted" data-testid="chart-points">
          {' '}
          · {points} {points === 1 ? 'point' : 'points'}
        </span>
        {series.length > MAX_LINES && (
          <span className="muted">
            {' '}
            · showing {MAX_LINES} of {series.length} series
          </span>
        )}
      </figcaption>
      {points === 0 ? <p className="muted empty-chart">No data in this range.</p> : <div ref={container} />}
    </figure>
  );
}
