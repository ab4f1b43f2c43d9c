import { Heartbeat, MetricsBatch, validateDto } from '@app/contracts';
import { checkHeartbeat, checkMetricsBatch } from './agent-message-checks';

const heartbeat = () => ({
  agentId: 'agent-1',
  sentAt: 1_700_000_000_000,
  agentType: 'server',
  agentVersion: '1.0.0',
  uptimeSeconds: 12,
  intervalSeconds: 10,
  state: 'running',
  host: { hostname: 'web-1', hostId: 'abc', os: 'linux', arch: 'x64' },
  lastCollection: {
    ok: false,
    at: 1,
    durationMs: 3,
    samples: 2,
    errors: [{ collector: 'disk', error: 'EACCES' }],
  },
  buffered: 0,
  dropped: 0,
  sources: [
    { name: 'scrape:api', up: true, lastDurationMs: 12.5, series: 40, lastRunAt: 1_700_000_000_000 },
    {
      name: 'exec:queue',
      up: false,
      lastError: 'exited with code 1',
      lastDurationMs: 3,
      series: 0,
      lastRunAt: 1,
    },
  ],
});

/** Ingestion's clock in these tests: the batch below was collected at this moment. */
const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

const batch = () => ({
  agentId: 'agent-1',
  seq: 7,
  collectedAt: 1_700_000_000_000,
  samples: [
    { name: 'cpu.usage', value: 12.5, unit: 'percent', tags: { core: '0' } },
    { name: 'mem.used', value: 1024, ts: 1_700_000_000_001 },
  ],
});

type Mutation = [string, (v: Record<string, unknown> & { host?: unknown; samples?: unknown[] }) => void];

const heartbeatMutations: Mutation[] = [
  ['the payload as sent', () => undefined],
  ['no lastCollection', (v) => delete v.lastCollection],
  ['an unknown top-level field', (v) => (v.extra = 1)],
  ['an agent id with a dot', (v) => (v.agentId = 'a.b')],
  ['sentAt as a string', (v) => (v.sentAt = '1')],
  ['a 65-character agent type', (v) => (v.agentType = 'x'.repeat(65))],
  ['a negative uptime', (v) => (v.uptimeSeconds = -1)],
  ['an interval below one second', (v) => (v.intervalSeconds = 0.5)],
  ['a fractional interval', (v) => (v.intervalSeconds = 2.5)],
  ['an interval above an hour', (v) => (v.intervalSeconds = 3601)],
  ['an interval of 1e308 (infinite once multiplied by the missed count)', (v) => (v.intervalSeconds = 1e308)],
  ['an unknown state', (v) => (v.state = 'sleeping')],
  ['a host without hostname', (v) => delete (v.host as Record<string, unknown>).hostname],
  ['an unknown host field', (v) => ((v.host as Record<string, unknown>).kernel = '6')],
  ['a fractional buffered count', (v) => (v.buffered = 1.5)],
  ['a missing dropped count', (v) => delete v.dropped],
  ['a buffer fill of one half', (v) => (v.bufferFill = 0.5)],
  ['a buffer fill above one', (v) => (v.bufferFill = 1.2)],
  ['a buffer fill as a string', (v) => (v.bufferFill = '0.5')],
  ['a collection with a non-boolean ok', (v) => ((v.lastCollection as Record<string, unknown>).ok = 'yes')],
  [
    'a collection error with an extra field',
    (v) => ((v.lastCollection as { errors: object[] }).errors = [{ collector: 'a', error: 'b', c: 1 }]),
  ],
  ['no sources', (v) => delete v.sources],
  ['sources that is an object', (v) => (v.sources = {})],
  ['101 sources', (v) => (v.sources = Array.from({ length: 101 }, () => (v.sources as object[])[0]))],
  ['a source with an empty name', (v) => ((v.sources as Record<string, unknown>[])[0].name = '')],
  ['a source with up as a string', (v) => ((v.sources as Record<string, unknown>[])[0].up = 'yes')],
  [
    'a source with a fractional series count',
    (v) => ((v.sources as Record<string, unknown>[])[0].series = 1.5),
  ],
  [
    'a source with a negative duration',
    (v) => ((v.sources as Record<string, unknown>[])[0].lastDurationMs = -1),
  ],
  [
    'a source with a 501-character error',
    (v) => ((v.sources as Record<string, unknown>[])[1].lastError = 'e'.repeat(501)),
  ],
  ['a source with an unknown field', (v) => ((v.sources as Record<string, unknown>[])[0].help = 'x')],
];

const batchMutations: Mutation[] = [
  ['the payload as sent', () => undefined],
  ['an empty sample list', (v) => (v.samples = [])],
  ['a negative seq', (v) => (v.seq = -1)],
  ['a fractional seq', (v) => (v.seq = 1.5)],
  ['a seq of 2^53 − 1', (v) => (v.seq = Number.MAX_SAFE_INTEGER)],
  ['a seq beyond 2^53', (v) => (v.seq = 2 ** 60)],
  ['a fractional collectedAt', (v) => (v.collectedAt = NOW + 0.5)],
  ['a collectedAt of 1e300', (v) => (v.collectedAt = 1e300)],
  ['a collectedAt as a string', (v) => (v.collectedAt = String(NOW))],
  ['a sample ts of 1e300', (v) => ((v.samples![1] as Record<string, unknown>).ts = 1e300)],
  ['a fractional sample ts', (v) => ((v.samples![1] as Record<string, unknown>).ts = NOW + 0.25)],
  ['a negative sample ts', (v) => ((v.samples![1] as Record<string, unknown>).ts = -1)],
  ['an unknown field', (v) => (v.extra = true)],
  ['samples that is not an array', (v) => Object.assign(v, { samples: {} })],
  ['a metric name starting with a digit', (v) => ((v.samples![0] as Record<string, unknown>).name = '1cpu')],
  ['a value that is a string', (v) => ((v.samples![0] as Record<string, unknown>).value = '1')],
  ['a 33-character unit', (v) => ((v.samples![0] as Record<string, unknown>).unit = 'u'.repeat(33))],
  ['tags that are an array', (v) => ((v.samples![0] as Record<string, unknown>).tags = ['a'])],
  ['a sample with an unknown field', (v) => ((v.samples![0] as Record<string, unknown>).help = 'x')],
  ['a sample that is null', (v) => (v.samples![0] = null)],
];

describe('agent message checks', () => {
  it.each(heartbeatMutations)('agree with the Heartbeat DTO on %s', (_, mutate) => {
    const value = heartbeat();
    mutate(value as never);
    const dtoAccepts = (() => {
      try {
        validateDto(Heartbeat, JSON.parse(JSON.stringify(value)));
        return true;
      } catch {
        return false;
      }
    })();
    expect(checkHeartbeat(value).ok).toBe(dtoAccepts);
  });

  it.each(batchMutations)('agree with the MetricsBatch DTO on %s', (_, mutate) => {
    const value = batch();
    mutate(value as never);
    const dtoAccepts = (() => {
      try {
        validateDto(MetricsBatch, JSON.parse(JSON.stringify(value)));
        return true;
      } catch {
        return false;
      }
    })();
    expect(checkMetricsBatch(value, NOW).ok).toBe(dtoAccepts);
  });

  it.each([
    ['collectedAt 31 days old', (v: ReturnType<typeof batch>) => (v.collectedAt = NOW - 31 * DAY)],
    ['collectedAt two days ahead', (v: ReturnType<typeof batch>) => (v.collectedAt = NOW + 2 * DAY)],
    ['a sample ts 31 days old', (v: ReturnType<typeof batch>) => (v.samples[1].ts = NOW - 31 * DAY)],
    ['a sample ts two days ahead', (v: ReturnType<typeof batch>) => (v.samples[1].ts = NOW + 2 * DAY)],
  ])('rejects %s, outside the window around ingestion’s clock', (_, mutate) => {
    const value = batch();
    mutate(value);
    expect(checkMetricsBatch(value, NOW)).toMatchObject({ ok: false });
  });

  it('accepts timestamps at both edges of the window', () => {
    const value = batch();
    value.collectedAt = NOW - 30 * DAY;
    value.samples[1].ts = NOW + DAY;
    expect(checkMetricsBatch(value, NOW).ok).toBe(true);
  });

  it('rejects tag values that are not strings, which the declared type forbids', () => {
    const value = batch();
    value.samples[0].tags = { core: 0 as unknown as string };
    expect(checkMetricsBatch(value, NOW)).toEqual({
      ok: false,
      reason: 'samples[0].tags.core must be a string of ≤ 1000 characters',
    });
  });

  it('names the offending field in the reason', () => {
    const value = heartbeat();
    value.intervalSeconds = 0;
    expect(checkHeartbeat(value)).toEqual({ ok: false, reason: 'intervalSeconds must be ≥ 1' });
  });

  it('rejects a NUL character in a stored string, which PostgreSQL text cannot hold', () => {
    const value = batch();
    value.samples[0].tags = { core: 'a\u0000b' };
    expect(checkMetricsBatch(value, NOW).ok).toBe(false);
    value.samples[0].tags = { core: '0' };
    value.samples[0].unit = '%\u0000';
    expect(checkMetricsBatch(value, NOW).ok).toBe(false);
  });
});
