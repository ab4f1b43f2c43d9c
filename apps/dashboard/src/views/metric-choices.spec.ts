import type { DeclaredMetric, MetricsCatalog } from '../api/types';
import { withSentMetrics } from './metric-choices';

const cpu: DeclaredMetric = { name: 'system.cpu.usage', unit: '%', description: 'CPU' };
const info: DeclaredMetric = { name: 'system.os.info', unit: '1', description: 'OS', info: true };
const catalog = (names: string[]): MetricsCatalog => ({
  agent_id: 'ag_1',
  since: 0,
  truncated: false,
  metrics: names.map((name) => ({ name, unit: 'By', tags: { mount: ['/'] }, last_sample_at: 1 })),
});

describe('metrics offered as charts', () => {
  it('offers the declared metrics, then the ones the agent sent that its type does not declare', () => {
    const offered = withSentMetrics([cpu], catalog(['system.cpu.usage', 'app.queue.depth']), [cpu, info]);
    expect(offered.map((m) => m.name)).toEqual(['system.cpu.usage', 'app.queue.depth']);
    expect(offered[1]).toMatchObject({ unit: 'By', description: expect.stringContaining('tags mount') });
  });

  it('never offers a declared info metric, even when the agent sent it', () => {
    const offered = withSentMetrics([cpu], catalog(['system.os.info']), [cpu, info]);
    expect(offered.map((m) => m.name)).toEqual(['system.cpu.usage']);
  });

  it('offers only the declared metrics while discovery has not answered', () => {
    expect(withSentMetrics([cpu], undefined)).toEqual([cpu]);
  });
});
