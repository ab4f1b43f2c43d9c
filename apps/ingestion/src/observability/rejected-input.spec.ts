import { ManualClock } from '@app/clock';
import { IngestionMetrics } from './ingestion-metrics';
import { RejectedInput, RejectionLine } from './rejected-input';

function newRejectedInput() {
  const clock = new ManualClock();
  const metrics = new IngestionMetrics();
  const lines: { line: RejectionLine; message: string }[] = [];
  const sut = new RejectedInput(metrics, clock, (line, message) => lines.push({ line, message }));
  return { sut, clock, metrics, lines };
}

describe(RejectedInput.name, () => {
  it('logs the first refusal of a reason at once, with where it came from and why', () => {
    const { sut, lines } = newRejectedInput();
    sut.record('metrics', 'invalid_payload', { subject: 'agents.prod.a.metrics', detail: 'seq must be…' });
    expect(lines).toEqual([
      {
        line: {
          kind: 'metrics',
          reason: 'invalid_payload',
          count: 1,
          subject: 'agents.prod.a.metrics',
          detail: 'seq must be…',
        },
        message: 'metrics refused: invalid_payload',
      },
    ]);
  });

  it('logs a flood of one reason once a minute with how many were refused, and counts every one', async () => {
    const { sut, clock, metrics, lines } = newRejectedInput();
    for (let i = 0; i < 1000; i++) {
      sut.record('heartbeat', 'malformed', { subject: 'agents.prod.a.heartbeat' });
      clock.advance(100);
    }
    // 100 s of refusals: the first at once, the next a minute later carrying the 600 since.
    expect(lines.map((l) => l.line.count)).toEqual([1, 600]);
    expect(lines[1].message).toBe('heartbeat refused: malformed; 600 such refusals since the previous line');
    expect(await metrics.rejectedByReason()).toEqual({ malformed: 1000 });
  });

  it('keeps a window per kind and reason, so one flood does not hide another reason', () => {
    const { sut, lines } = newRejectedInput();
    sut.record('heartbeat', 'malformed');
    sut.record('heartbeat', 'malformed');
    sut.record('heartbeat', 'revoked');
    sut.record('metrics', 'malformed');
    expect(lines.map((l) => `${l.line.kind} ${l.line.reason}`)).toEqual([
      'heartbeat malformed',
      'heartbeat revoked',
      'metrics malformed',
    ]);
  });
});
