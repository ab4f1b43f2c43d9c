import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { MeterProvider, PeriodicExportingMetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { Field, Type } from 'protobufjs';
import { MetricSample } from '@app/contracts';
import { PartialCollectionError } from '../agent-type';
import { CollectorRunner } from '../collectors/run-collectors';
import { OtlpCollector } from './otlp-collector';
import { parseOtlpSettings } from './otlp-config';

/** google.rpc.Status, declared here from its .proto text: the test reads the answer with its own decoder. */
const RpcStatus = new Type('Status')
  .add(new Field('code', 1, 'int32'))
  .add(new Field('message', 2, 'string'));

const collectors: OtlpCollector[] = [];
async function startIntake(settings: object = {}): Promise<{ intake: OtlpCollector; url: string }> {
  const intake = new OtlpCollector('127.0.0.1', 0, parseOtlpSettings(settings, 'settings'));
  collectors.push(intake);
  await intake.collect(); // the first collection starts the server, as when the agent starts
  return { intake, url: `http://127.0.0.1:${intake.address()!.port}/v1/metrics` };
}
afterEach(async () => {
  await Promise.all(collectors.splice(0).map((c) => c.close()));
});

/** A real SDK pipeline: a MeterProvider whose reader exports to the intake when flushed. */
function sdk(exporter: PushMetricExporter) {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop', 'service.instance.id': 'shop-1' }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
  });
  return { meter: provider.getMeter('shop-meter'), flush: () => provider.forceFlush(), provider };
}

/** What one collection yields: its samples, and its error when part of the input was refused. */
async function collect(intake: OtlpCollector): Promise<{ samples: MetricSample[]; error?: string }> {
  try {
    return { samples: await intake.collect() };
  } catch (error) {
    if (error instanceof PartialCollectionError) return { samples: error.samples, error: error.message };
    throw error;
  }
}

const find = (samples: MetricSample[], name: string, tags: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(tags).every(([k, v]) => s.tags?.[k] === v));

function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; type?: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: res.headers['content-type'], body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };

describe('OtlpCollector', () => {
  it.each([
    ['JSON', (url: string) => new JsonExporter({ url })],
    ['protobuf', (url: string) => new ProtoExporter({ url })],
  ])(
    'stores counters, gauges, up-down counters and histograms the OpenTelemetry JS SDK exports over OTLP/HTTP %s',
    async (_encoding, exporterFor) => {
      const { intake, url } = await startIntake({ labels: { team: 'payments' } });
      const { meter, flush, provider } = sdk(exporterFor(url));
      const orders = meter.createCounter('orders_total');
      orders.add(3, { method: 'GET' });
      orders.add(2, { method: 'GET' });
      orders.add(1, { method: 'POST' });
      meter.createGauge('queue.depth', { unit: '1' }).record(42);
      const open = meter.createUpDownCounter('connections_open');
      open.add(5);
      open.add(-2);
      const latency = meter.createHistogram('http_request_duration_seconds', {
        advice: { explicitBucketBoundaries: [0.5, 1] },
      });
      for (const v of [0.2, 0.7, 3]) latency.record(v, { route: '/pay' });
      await flush();

      const { samples, error } = await collect(intake);

      expect(error).toBeUndefined();
      const context = {
        source: 'otlp',
        team: 'payments',
        'service.name': 'shop',
        'service.instance.id': 'shop-1',
        otel_scope_name: 'shop-meter',
      };
      expect(find(samples, 'orders_total', { method: 'GET' })).toEqual([
        { name: 'orders_total', value: 5, tags: expect.objectContaining({ ...context, method: 'GET' }) },
      ]);
      expect(find(samples, 'orders_total', { method: 'POST' }).map((s) => s.value)).toEqual([1]);
      expect(find(samples, 'queue.depth')).toEqual([
        { name: 'queue.depth', value: 42, unit: '1', tags: expect.objectContaining(context) },
      ]);
      expect(find(samples, 'connections_open').map((s) => s.value)).toEqual([3]);
      const bucket = (le: string) =>
        find(samples, 'http_request_duration_seconds_bucket', { le, route: '/pay' }).map((s) => s.value);
      expect([bucket('0.5'), bucket('1'), bucket('+Inf')]).toEqual([[1], [2], [3]]);
      expect(find(samples, 'http_request_duration_seconds_sum')[0].value).toBeCloseTo(3.9);
      expect(find(samples, 'http_request_duration_seconds_count').map((s) => s.value)).toEqual([3]);
      // Every tag set is one ingestion accepts.
      for (const s of samples) expect(Object.keys(s.tags ?? {}).length).toBeLessThanOrEqual(16);
      await provider.shutdown();
    },
  );

  it('sums delta counters over the interval, as StatsD counters are, and sends nothing once none arrived', async () => {
    const { intake, url } = await startIntake();
    const { meter, flush, provider } = sdk(
      new JsonExporter({ url, temporalityPreference: AggregationTemporalityPreference.DELTA }),
    );
    const jobs = meter.createCounter('jobs_done');
    jobs.add(3);
    await flush();
    jobs.add(4);
    await flush();
    expect(find((await collect(intake)).samples, 'jobs_done').map((s) => s.value)).toEqual([7]);
    expect(find((await collect(intake)).samples, 'jobs_done')).toEqual([]);
    await provider.shutdown();
  });

  it('keeps the newest value of a cumulative counter exported twice in one interval', async () => {
    const { intake, url } = await startIntake();
    const { meter, flush, provider } = sdk(new ProtoExporter({ url }));
    const jobs = meter.createCounter('jobs_done');
    jobs.add(3);
    await flush();
    jobs.add(4);
    await flush();
    expect(find((await collect(intake)).samples, 'jobs_done').map((s) => s.value)).toEqual([7]);
    await provider.shutdown();
  });

  it('bounds a cardinality explosion at max_series, answers partial success and reports it, and stays usable', async () => {
    const { intake, url } = await startIntake({ max_series: 100 });
    const { meter, flush, provider } = sdk(new JsonExporter({ url }));
    const requests = meter.createCounter('requests_total');
    for (let i = 0; i < 1000; i++) requests.add(1, { user: `u${i}` });
    await flush(); // partial success is a success for the exporter

    const answer = await post(
      url,
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              { metrics: [{ name: 'more', gauge: { dataPoints: [{ asDouble: 1 }, { asInt: '2' }] } }] },
            ],
          },
        ],
      }),
      json,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({
      partialSuccess: { rejectedDataPoints: 2, errorMessage: '2 points refused (series past max_series)' },
    });

    const { samples, error } = await collect(intake);
    expect(samples).toHaveLength(100);
    expect(error).toBe('902 points refused (series past max_series)');

    // Once the exploding application stops, the next interval starts empty and another is stored whole.
    await provider.shutdown();
    await collect(intake);
    const other = sdk(new JsonExporter({ url }));
    other.meter.createCounter('after_total').add(1);
    await other.flush();
    const next = await collect(intake);
    expect(next).toEqual({ samples: [expect.objectContaining({ name: 'after_total', value: 1 })] });
    await other.provider.shutdown();
  });

  it('answers garbage, wrong types, methods and paths as the OTLP/HTTP spec says, counts them, and goes on', async () => {
    const { intake, url } = await startIntake();
    const protobuf = { 'Content-Type': 'application/x-protobuf' };

    const badProto = await post(url, Buffer.from('this is not protobuf at all'), protobuf);
    expect(badProto.status).toBe(400);
    expect(badProto.type).toBe('application/x-protobuf');
    // A google.rpc.Status: code 3 (INVALID_ARGUMENT) and a message saying what broke.
    expect(RpcStatus.toObject(RpcStatus.decode(badProto.body))).toEqual({
      code: 3,
      message: expect.stringMatching(/^not an OTLP ExportMetricsServiceRequest: /),
    });

    const badJson = await post(url, '{"resourceMetrics": [5]', json);
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body.toString())).toEqual({ code: 3, message: expect.any(String) });
    expect((await post(url, '{"resourceMetrics": "x"}', json)).status).toBe(400);
    expect((await post(url, '[]', json)).status).toBe(400);
    expect((await post(url, 'a=1', { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await post(url, '{}', { ...json, 'Content-Encoding': 'br' })).status).toBe(415);
    expect((await post(url, '{}', json, 'PUT')).status).toBe(405);
    expect((await post(url.replace('/v1/metrics', '/v1/traces'), '{}', json)).status).toBe(404);
    expect(
      (await post(url, gzipSync('{"resourceMetrics": []}'), { ...json, 'Content-Encoding': 'gzip' })).status,
    ).toBe(200);

    const { error } = await collect(intake);
    expect(error).toBe(
      '4 requests refused (not an OTLP metrics request); 2 requests refused (HTTP 415); ' +
        '1 request refused (HTTP 405); 1 request refused (HTTP 404)',
    );
    const { meter, flush, provider } = sdk(new ProtoExporter({ url }));
    meter.createCounter('still_fine').add(1);
    await flush();
    expect(find((await collect(intake)).samples, 'still_fine')).toHaveLength(1);
    await provider.shutdown();
  });

  it('refuses a body past max_bytes with 413, declared, streamed or gzip-inflated, without holding it', async () => {
    const { intake, url } = await startIntake({ max_bytes: 4096 });
    const big = JSON.stringify({ resourceMetrics: [], padding: 'x'.repeat(10_000) });
    expect((await post(url, big, json)).status).toBe(413);
    expect((await post(url, big, { ...json, 'Transfer-Encoding': 'chunked' })).status).toBe(413);
    // 1 MB of JSON that gzips to about 1 KB: refused as it inflates past max_bytes.
    const bomb = gzipSync(JSON.stringify({ resourceMetrics: [], padding: ' '.repeat(1_000_000) }));
    expect(bomb.length).toBeLessThan(4096);
    expect((await post(url, bomb, { ...json, 'Content-Encoding': 'gzip' })).status).toBe(413);
    expect((await collect(intake)).error).toBe('3 requests refused (HTTP 413)');
  });

  it('refuses exponential histograms and names that cannot be stored, as partial success', async () => {
    const { intake, url } = await startIntake();
    const body = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'rpc_latency',
                  exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ count: '3', scale: 2 }] },
                },
                { name: 'bad/name', gauge: { dataPoints: [{ asDouble: 1 }] } },
                { name: 'good', gauge: { dataPoints: [{ asDouble: 1 }] } },
              ],
            },
          ],
        },
      ],
    };
    const answer = await post(url, JSON.stringify(body), json);
    expect(JSON.parse(answer.body.toString())).toEqual({
      partialSuccess: {
        rejectedDataPoints: 2,
        errorMessage:
          '1 point refused (exponential histograms are not stored; use explicit bucket boundaries); ' +
          '1 point refused (name not storable)',
      },
    });
    const { samples } = await collect(intake);
    expect(samples.map((s) => s.name)).toEqual(['good']);
  });

  it("is reported like any collector: its refusals are the heartbeat's collector error, its samples kept", async () => {
    const { intake, url } = await startIntake({ max_series: 1 });
    await post(
      url,
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  { name: 'a', gauge: { dataPoints: [{ asDouble: 1 }] } },
                  { name: 'b', gauge: { dataPoints: [{ asDouble: 2 }] } },
                ],
              },
            ],
          },
        ],
      }),
      json,
    );
    const { samples, status } = await new CollectorRunner([intake], 1000).collect();
    expect(samples.map((s) => [s.name, s.value])).toEqual([['a', 1]]);
    expect(status.errors).toEqual([{ collector: 'otlp', error: '1 point refused (series past max_series)' }]);
    // Its source health (the agent page's table) says the same: up, one series, the refusal as last error.
    expect(intake.health()).toEqual([
      expect.objectContaining({
        name: 'otlp',
        up: true,
        series: 1,
        lastError: '1 point refused (series past max_series)',
      }),
    ]);
  });

  it('reports a port already in use as its error and binds at a later collection', async () => {
    const { intake } = await startIntake();
    const port = intake.address()!.port;
    const second = new OtlpCollector('127.0.0.1', port, parseOtlpSettings(undefined, 's'));
    collectors.push(second);
    await expect(second.collect()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}`);
    expect(second.health()).toEqual([expect.objectContaining({ name: 'otlp', up: false, series: 0 })]);
    await intake.close();
    await expect(second.collect()).resolves.toEqual([]);
    expect(second.address()?.port).toBe(port);
  });
});
