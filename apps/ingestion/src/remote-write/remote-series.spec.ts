import { loadConfig } from '@app/config';
import { IngestionConfig } from '../config';
import { toRemoteSeries } from './remote-series';
import { decodeWriteRequest, encodeWriteRequest } from './remote-write.encoder';

const who = {
  organizationId: 'org-1',
  environment: 'prod-1',
  agentId: 'ag_1',
  agentType: 'server',
  hostname: 'web-1',
  labels: { 'app.tier': 'web', agent: 'posing' },
};

describe('remote-write series', () => {
  it('sanitises names and lets identity labels win over agent labels and sample tags', () => {
    const [series] = toRemoteSeries(
      {
        agentId: 'ag_1',
        seq: 1,
        collectedAt: 1000,
        samples: [{ name: 'system.cpu.usage', value: 2, tags: { organization: 'other', '1core': '0' } }],
      },
      who,
    );
    expect(Object.fromEntries(series.labels.map((l) => [l.name, l.value]))).toEqual({
      __name__: 'system_cpu_usage',
      _1core: '0',
      agent: 'ag_1',
      agent_type: 'server',
      app_tier: 'web',
      environment: 'prod-1',
      host: 'web-1',
      organization: 'org-1',
    });
    expect(series.samples).toEqual([{ value: 2, timestamp: 1000 }]);
  });

  it('round-trips through the protobuf and snappy encoding', () => {
    const series = toRemoteSeries(
      { agentId: 'ag_1', seq: 1, collectedAt: 5, samples: [{ name: 'up', value: 1 }] },
      who,
    );
    expect(decodeWriteRequest(encodeWriteRequest(series)).timeseries).toEqual(series);
  });

  it('refuses an unknown sink and remote_write without a URL, naming the variable', () => {
    expect(() => loadConfig(IngestionConfig, { METRICS_SINKS: 'store,kafka' })).toThrow(/METRICS_SINKS/);
    expect(() => loadConfig(IngestionConfig, { METRICS_SINKS: 'remote_write' })).toThrow(/REMOTE_WRITE_URL/);
    expect(
      loadConfig(IngestionConfig, {
        METRICS_SINKS: 'remote_write',
        REMOTE_WRITE_URL: 'http://p:9090/api/v1/write',
      }).sinks(),
    ).toEqual(['remote_write']);
  });
});
