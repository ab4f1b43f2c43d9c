import { convertMetricsRequest } from './otlp-metrics-converter';
import { OtlpMetric, OtlpMetricsRequest } from './otlp-protocol';

const text = (key: string, value: string) => ({ key, value: { stringValue: value } });
function request(metrics: OtlpMetric[], resource = [text('service.name', 'shop')]): OtlpMetricsRequest {
  return {
    resourceMetrics: [
      { resource: { attributes: resource }, scopeMetrics: [{ scope: { name: 'lib' }, metrics }] },
    ],
  };
}

describe('convertMetricsRequest', () => {
  it('turns a delta histogram into cumulative Prometheus buckets, _sum and _count, summed per interval', () => {
    const { points } = convertMetricsRequest(
      request([
        {
          name: 'rpc_seconds',
          histogram: {
            aggregationTemporality: 1,
            dataPoints: [{ count: 6, sum: 4.5, bucketCounts: [1, 2, 3], explicitBounds: [0.1, 1] }],
          },
        },
      ]),
      14,
    );
    expect(points.map((p) => [p.name, p.labels.le, p.value, p.mode])).toEqual([
      ['rpc_seconds_bucket', '0.1', 1, 'sum'],
      ['rpc_seconds_bucket', '1', 3, 'sum'],
      ['rpc_seconds_bucket', '+Inf', 6, 'sum'],
      ['rpc_seconds_sum', undefined, 4.5, 'sum'],
      ['rpc_seconds_count', undefined, 6, 'sum'],
    ]);
  });

  it('keeps every point attribute and fills the remaining tags with identifying resource attributes first', () => {
    const resource = [
      text('telemetry.sdk.name', 'opentelemetry'),
      text('process.pid', '12'),
      text('service.instance.id', 'shop-1'),
      text('service.name', 'shop'),
    ];
    const { points } = convertMetricsRequest(
      request(
        [
          {
            name: 'm',
            gauge: { dataPoints: [{ asInt: 3, attributes: [text('route', '/a'), text('code', '200')] }] },
          },
        ],
        resource,
      ),
      5,
    );
    expect(points).toEqual([
      {
        name: 'm',
        value: 3,
        mode: 'last',
        labels: {
          route: '/a',
          code: '200',
          'service.name': 'shop',
          'service.instance.id': 'shop-1',
          'telemetry.sdk.name': 'opentelemetry',
        },
      },
    ]);
  });

  it('keeps cumulative sums as their newest total and delta sums as deltas, and skips points with no recorded value', () => {
    const { points } = convertMetricsRequest(
      request([
        {
          name: 'total',
          unit: 'By',
          sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asDouble: 10 }] },
        },
        {
          name: 'delta',
          sum: {
            aggregationTemporality: 1,
            isMonotonic: true,
            dataPoints: [{ asInt: 2 }, { asInt: 5, flags: 1 }],
          },
        },
      ]),
      14,
    );
    expect(points.map((p) => [p.name, p.value, p.mode, p.unit])).toEqual([
      ['total', 10, 'last', 'By'],
      ['delta', 2, 'sum', undefined],
    ]);
  });

  it('turns a summary into quantile series, _sum and _count, and counts exponential histograms as refused', () => {
    const { points, refused } = convertMetricsRequest(
      request([
        {
          name: 'lat',
          summary: { dataPoints: [{ count: 4, sum: 2, quantileValues: [{ quantile: 0.5, value: 0.4 }] }] },
        },
        { name: 'exp', exponentialHistogram: { dataPoints: [{}, {}] } },
      ]),
      14,
    );
    expect(points.map((p) => [p.name, p.labels.quantile, p.value])).toEqual([
      ['lat', '0.5', 0.4],
      ['lat_sum', undefined, 2],
      ['lat_count', undefined, 4],
    ]);
    expect([...refused]).toEqual([
      ['exponential histograms are not stored; use explicit bucket boundaries', 2],
    ]);
  });
});
