import { Heartbeat } from '@app/contracts';
import { assessHeartbeat, HealthThresholds } from './heartbeat-health';

const NOW = 1_700_000_000_000;
const THRESHOLDS: HealthThresholds = { bufferFillFraction: 0.5, clockSkewSeconds: 30 };

function heartbeat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    agentId: 'agent-1',
    sentAt: NOW,
    agentType: 'docker',
    agentVersion: '0.1.0',
    uptimeSeconds: 60,
    intervalSeconds: 10,
    state: 'running',
    host: { hostname: 'web-1', hostId: 'h1', os: 'linux' },
    lastCollection: { ok: true, at: NOW - 1000, durationMs: 12, samples: 40, errors: [] },
    buffered: 0,
    dropped: 0,
    bufferFill: 0,
    ...overrides,
  } as Heartbeat;
}

describe(assessHeartbeat.name, () => {
  it('a heartbeat with nothing wrong is ok, with every component ok', () => {
    const health = assessHeartbeat(heartbeat(), NOW, 0, THRESHOLDS);
    expect(health.state).toBe('ok');
    expect(health.reasons).toEqual([]);
    expect(health.components.map((c) => [c.component, c.ok])).toEqual([
      ['collectors', true],
      ['buffer', true],
      ['delivery', true],
      ['clock', true],
    ]);
  });

  it('each failing collector is a reason of its own, naming the collector and its error', () => {
    const health = assessHeartbeat(
      heartbeat({
        lastCollection: {
          ok: false,
          at: NOW,
          durationMs: 5,
          samples: 0,
          errors: [
            { collector: 'containers', error: 'connect ENOENT /var/run/docker.sock' },
            { collector: 'images', error: 'timeout' },
          ],
        },
      }),
      NOW,
      0,
      THRESHOLDS,
    );
    expect(health.state).toBe('degraded');
    expect(health.reasons).toEqual([
      {
        kind: 'collector_errors',
        component: 'collector:containers',
        message: 'containers: connect ENOENT /var/run/docker.sock',
      },
      { kind: 'collector_errors', component: 'collector:images', message: 'images: timeout' },
    ]);
    expect(health.components.find((c) => c.component === 'collector:images')).toEqual({
      component: 'collector:images',
      ok: false,
      detail: 'timeout',
    });
  });

  it('a buffer at the fill threshold is degraded, just below it is not', () => {
    expect(
      assessHeartbeat(heartbeat({ bufferFill: 0.5, buffered: 500 }), NOW, 0, THRESHOLDS).reasons,
    ).toEqual([
      { kind: 'buffer_filling', component: 'buffer', message: 'buffer 500 batches waiting, 50% full' },
    ]);
    expect(assessHeartbeat(heartbeat({ bufferFill: 0.49 }), NOW, 0, THRESHOLDS).state).toBe('ok');
  });

  it('an agent that does not report its buffer fill is not judged on it', () => {
    const health = assessHeartbeat(heartbeat({ bufferFill: undefined, buffered: 999 }), NOW, 0, THRESHOLDS);
    expect(health.state).toBe('ok');
    expect(health.components.some((c) => c.component === 'buffer')).toBe(false);
  });

  it('drops since the previous heartbeat degrade the agent; drops from long ago do not', () => {
    expect(assessHeartbeat(heartbeat({ dropped: 7 }), NOW, 4, THRESHOLDS).reasons).toEqual([
      {
        kind: 'samples_dropped',
        component: 'delivery',
        message: '3 metric batches dropped since the previous heartbeat (buffer full)',
      },
    ]);
    expect(assessHeartbeat(heartbeat({ dropped: 7 }), NOW, 7, THRESHOLDS).state).toBe('ok');
    // The first heartbeat this instance hears: no earlier count to compare with.
    expect(assessHeartbeat(heartbeat({ dropped: 7 }), NOW, undefined, THRESHOLDS).state).toBe('ok');
    // Restarted agent: its count starts again from zero.
    expect(assessHeartbeat(heartbeat({ dropped: 1 }), NOW, 7, THRESHOLDS).state).toBe('ok');
  });

  it('a clock off by more than the skew threshold either way is degraded, within it is not', () => {
    const ahead = assessHeartbeat(heartbeat({ sentAt: NOW + 31_000 }), NOW, 0, THRESHOLDS);
    expect(ahead.reasons).toEqual([
      { kind: 'clock_skew', component: 'clock', message: 'agent clock 31.0 s ahead (more than 30 s)' },
    ]);
    expect(assessHeartbeat(heartbeat({ sentAt: NOW - 45_000 }), NOW, 0, THRESHOLDS).reasons[0].message).toBe(
      'agent clock 45.0 s behind (more than 30 s)',
    );
    expect(assessHeartbeat(heartbeat({ sentAt: NOW - 29_000 }), NOW, 0, THRESHOLDS).state).toBe('ok');
  });

  it('a stopping heartbeat is stopping whatever else it reports', () => {
    const health = assessHeartbeat(
      heartbeat({ state: 'stopping', bufferFill: 1, sentAt: NOW + 600_000 }),
      NOW,
      0,
      THRESHOLDS,
    );
    expect(health.state).toBe('stopping');
    expect(health.reasons.map((r) => r.kind)).toEqual(['buffer_filling', 'clock_skew']);
  });

  it('a heartbeat without a collection yet reports no collector component', () => {
    const health = assessHeartbeat(heartbeat({ lastCollection: undefined }), NOW, 0, THRESHOLDS);
    expect(health.state).toBe('ok');
    expect(health.components.map((c) => c.component)).toEqual(['buffer', 'delivery', 'clock']);
  });
});
