import { createSocket } from 'node:dgram';
import { appMetricsProblems, parseAppMetrics } from './app-metrics-sections';
import { AppMetricsSources } from './app-metrics-sources';
import { StatsdCollector } from './statsd-collector';

const target = (job: string) => ({ url: `http://127.0.0.1:9/${job}`, job });
const names = (sources: AppMetricsSources) => sources.collectors().map((c) => c.name);

/** True when a UDP port on 127.0.0.1 can be bound now (the listener that held it was closed). */
async function portIsFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

describe(parseAppMetrics.name, () => {
  it('applies each section’s defaults', () => {
    const parsed = parseAppMetrics({ scrape_targets: [target('api')], statsd: { address: '9125' } });
    expect(parsed.scrape_targets?.[0]).toMatchObject({ job: 'api', timeout: 5, max_series: 10_000 });
    expect(parsed.statsd).toEqual({ host: '127.0.0.1', port: 9125, maxSeries: 2000 });
  });

  it('turns StatsD off with enabled: false', () => {
    expect(parseAppMetrics({ statsd: { enabled: false } }).statsd).toBeNull();
  });

  it('reads the OTLP intake: where it listens and its settings, or off', () => {
    const otlp = parseAppMetrics({ otlp: { address: '4319', max_series: 5, labels: { team: 'shop' } } }).otlp;
    expect(otlp).toMatchObject({ host: '127.0.0.1', port: 4319 });
    expect(otlp?.config).toMatchObject({
      max_series: 5,
      labels: { team: 'shop' },
      max_bytes: 4 * 1024 * 1024,
    });
    expect(otlp?.config).not.toHaveProperty('address');
    expect(parseAppMetrics({ otlp: { enabled: false } }).otlp).toBeNull();
  });

  it('names every invalid field, across sections', () => {
    expect(
      appMetricsProblems({
        scrape_targets: [{ url: 'ftp://nope' }, target('a'), target('a')],
        exec_plugins: [{ name: 'q', command: [] }],
        statsd: { address: 'here:99999' },
        otlp: { port: 4318 },
        influx: {},
      }).map((p) => p.field),
    ).toEqual([
      'app_metrics.scrape_targets[0].url',
      'app_metrics.scrape_targets[2].job',
      'app_metrics.exec_plugins[0].command',
      'app_metrics.statsd.address',
      'app_metrics.otlp.port',
      'app_metrics.influx',
    ]);
  });

  it('says which sections exist when one is unknown', () => {
    expect(appMetricsProblems({ influx: {} })).toEqual([
      {
        field: 'app_metrics.influx',
        reason: 'unknown section; known: scrape_targets, exec_plugins, statsd, otlp',
      },
    ]);
  });

  it('refuses a value that is not an object of sections', () => {
    expect(appMetricsProblems([], 'settings.app_metrics')).toEqual([
      { field: 'settings.app_metrics', reason: 'must be an object of sections' },
    ]);
  });
});

describe(AppMetricsSources.name, () => {
  it('runs the agent’s own sources until a config sets the section, and again once it no longer does', () => {
    const sources = new AppMetricsSources(parseAppMetrics({ scrape_targets: [target('own')] }), 10);
    expect(names(sources)).toEqual(['scrape:own']);

    sources.apply(parseAppMetrics({ scrape_targets: [target('remote-a'), target('remote-b')] }), 10);
    expect(names(sources)).toEqual(['scrape:remote-a', 'scrape:remote-b']);

    sources.apply(parseAppMetrics({ scrape_targets: [] }), 10);
    expect(names(sources)).toEqual([]);

    sources.apply({}, 10);
    expect(names(sources)).toEqual(['scrape:own']);
  });

  it('keeps the collector of an unchanged target and replaces a changed one', () => {
    const sources = new AppMetricsSources({}, 10);
    const [a, b] = sources.apply(parseAppMetrics({ scrape_targets: [target('a'), target('b')] }), 10);
    const [a2, b2] = sources.apply(
      parseAppMetrics({ scrape_targets: [target('a'), { ...target('b'), timeout: 2 }] }),
      10,
    );
    expect(a2).toBe(a);
    expect(b2).not.toBe(b);
  });

  it('rebuilds every source when the collection interval changes (their schedules depend on it)', () => {
    const sources = new AppMetricsSources(parseAppMetrics({ scrape_targets: [target('a')] }), 10);
    const [before] = sources.collectors();
    const [after] = sources.apply({}, 30);
    expect(after).not.toBe(before);
  });

  it('closes the StatsD listener a config removes, freeing its port', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const sources = new AppMetricsSources({}, 10);
    const [listener] = sources.apply(parseAppMetrics({ statsd: { address: String(port) } }), 10);
    await listener.collect(); // binds the socket
    expect(listener).toBeInstanceOf(StatsdCollector);
    expect(await portIsFree(port)).toBe(false);

    sources.apply(parseAppMetrics({ statsd: { enabled: false } }), 10);
    expect(names(sources)).toEqual([]);
    expect(await portIsFree(port)).toBe(true);
  });
});
