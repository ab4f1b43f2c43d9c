import {
  OtlpAnyValue,
  OtlpHistogramPoint,
  OtlpKeyValue,
  OtlpMetric,
  OtlpMetricsRequest,
  OtlpNumberPoint,
  OtlpTemporality,
} from './otlp-protocol';

/**
 * How a series' points combine within one collection interval: `last` keeps the newest value (gauges,
 * cumulative sums and histograms: the value is already the total, as a scraped Prometheus counter is);
 * `sum` adds them up (delta sums and histograms: the interval's total, as a StatsD counter is sent).
 */
export type OtlpPointMode = 'last' | 'sum';

export interface OtlpSeriesPoint {
  name: string;
  labels: Record<string, string>;
  value: number;
  unit?: string;
  mode: OtlpPointMode;
}

export interface ConvertedMetrics {
  points: OtlpSeriesPoint[];
  /** Reason → data points refused for it (reported to the sender as partial success). */
  refused: Map<string, number>;
}

/**
 * Resource attributes that identify the application, kept first when tags run short; the others follow
 * in the order the SDK sent them (telemetry.sdk.* and process.* usually end up left out).
 */
const IDENTIFYING_RESOURCE_ATTRIBUTES = [
  'service.name',
  'service.namespace',
  'service.instance.id',
  'service.version',
  'deployment.environment.name',
  'deployment.environment',
  'host.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'container.name',
];
/** Bit 0 of a point's flags: the SDK has no value for the series any more. */
const NO_RECORDED_VALUE = 1;
const MAX_ATTRIBUTE_KEY_LENGTH = 200;

/**
 * OTLP metrics as series points, named as the application named them. Tags: the point's attributes
 * (they tell its series apart, so all are kept), then resource attributes, identifying ones first, and
 * the scope's name as `otel_scope_name`, while fewer than `tagBudget` tags are used. Histograms become
 * Prometheus' shape (`<name>_bucket` with cumulative counts per `le`, `<name>_sum`, `<name>_count`),
 * summaries `<name>{quantile}`, `_sum`, `_count`. Exponential histograms are refused.
 */
export function convertMetricsRequest(request: OtlpMetricsRequest, tagBudget: number): ConvertedMetrics {
  const points: OtlpSeriesPoint[] = [];
  const refused = new Map<string, number>();
  const refuse = (reason: string, n: number) => n && refused.set(reason, (refused.get(reason) ?? 0) + n);
  for (const resourceMetrics of request.resourceMetrics ?? []) {
    const resource = orderResource(attributesOf(resourceMetrics.resource?.attributes));
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      const context = [...resource];
      if (scopeMetrics.scope?.name) context.push(['otel_scope_name', scopeMetrics.scope.name]);
      for (const metric of scopeMetrics.metrics ?? []) {
        const emit = (
          name: string,
          own: [string, string][],
          value: number,
          mode: OtlpPointMode,
          unit?: string,
        ) => {
          const labels = Object.fromEntries(own);
          let count = own.length;
          for (const [key, tag] of context) {
            if (count >= tagBudget) break;
            if (key in labels) continue;
            labels[key] = tag;
            count++;
          }
          points.push({ name, labels, value, mode, ...(unit ? { unit } : {}) });
        };
        convertMetric(metric, emit, refuse);
      }
    }
  }
  return { points, refused };
}

type Emit = (
  name: string,
  labels: [string, string][],
  value: number,
  mode: OtlpPointMode,
  unit?: string,
) => void;

function convertMetric(metric: OtlpMetric, emit: Emit, refuse: (reason: string, n: number) => void): void {
  const name = metric.name ?? '';
  const unit = metric.unit && metric.unit.length <= 32 ? metric.unit : undefined;
  const pointLabels = (attributes: OtlpKeyValue[] | undefined) => {
    const labels = attributesOf(attributes);
    if (labels.some(([key]) => key.length > MAX_ATTRIBUTE_KEY_LENGTH || key.includes('\u0000'))) {
      refuse('attribute key too long', 1);
      return undefined;
    }
    return labels;
  };
  const numbers = (dataPoints: OtlpNumberPoint[] | undefined, mode: OtlpPointMode) => {
    for (const point of dataPoints ?? []) {
      const value = point.asDouble ?? point.asInt;
      const labels = pointLabels(point.attributes);
      if (value === undefined || (point.flags ?? 0) & NO_RECORDED_VALUE || !labels) continue;
      emit(name, labels, Number(value), mode, unit);
    }
  };
  if (metric.gauge) numbers(metric.gauge.dataPoints, 'last');
  else if (metric.sum) numbers(metric.sum.dataPoints, modeOf(metric.sum.aggregationTemporality));
  else if (metric.histogram) {
    const mode = modeOf(metric.histogram.aggregationTemporality);
    for (const point of metric.histogram.dataPoints ?? []) {
      const labels = pointLabels(point.attributes);
      if ((point.flags ?? 0) & NO_RECORDED_VALUE || !labels) continue;
      histogram(name, labels, point, mode, emit);
    }
  } else if (metric.summary) {
    for (const point of metric.summary.dataPoints ?? []) {
      const labels = pointLabels(point.attributes);
      if ((point.flags ?? 0) & NO_RECORDED_VALUE || !labels) continue;
      for (const q of point.quantileValues ?? [])
        emit(name, [...labels, ['quantile', String(q.quantile ?? 0)]], q.value ?? 0, 'last');
      if (point.sum !== undefined) emit(`${name}_sum`, labels, point.sum, 'last');
      emit(`${name}_count`, labels, point.count ?? 0, 'last');
    }
  } else if (metric.exponentialHistogram) {
    refuse(
      'exponential histograms are not stored; use explicit bucket boundaries',
      metric.exponentialHistogram.dataPoints?.length ?? 0,
    );
  }
}

/** Buckets as Prometheus exposes them: cumulative counts, `le` the upper bound, `+Inf` last. */
function histogram(
  name: string,
  labels: [string, string][],
  point: OtlpHistogramPoint,
  mode: OtlpPointMode,
  emit: Emit,
): void {
  const bounds = point.explicitBounds ?? [];
  const counts = point.bucketCounts ?? [];
  let cumulative = 0;
  if (counts.length)
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += Number(counts[i] ?? 0);
      const le = i < bounds.length ? String(bounds[i]) : '+Inf';
      emit(`${name}_bucket`, [...labels, ['le', le]], cumulative, mode);
    }
  if (point.sum !== undefined) emit(`${name}_sum`, labels, point.sum, mode);
  emit(`${name}_count`, labels, Number(point.count ?? 0), mode);
}

function modeOf(temporality: number | undefined): OtlpPointMode {
  return temporality === OtlpTemporality.delta ? 'sum' : 'last';
}

function attributesOf(attributes: OtlpKeyValue[] | undefined): [string, string][] {
  return (attributes ?? []).flatMap(({ key, value }) =>
    key ? [[key, textOf(value)] as [string, string]] : [],
  );
}

function textOf(value: OtlpAnyValue | undefined): string {
  if (!value) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return String(value.boolValue);
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return String(value.doubleValue);
  return JSON.stringify(value.arrayValue ?? value.kvlistValue ?? value.bytesValue ?? '');
}

function orderResource(attributes: [string, string][]): [string, string][] {
  const rank = (key: string) => {
    const i = IDENTIFYING_RESOURCE_ATTRIBUTES.indexOf(key);
    return i === -1 ? IDENTIFYING_RESOURCE_ATTRIBUTES.length : i;
  };
  return attributes
    .map((a, i) => ({ a, i }))
    .sort((x, y) => rank(x.a[0]) - rank(y.a[0]) || x.i - y.i)
    .map((x) => x.a);
}
