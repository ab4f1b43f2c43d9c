import { AgentSequence, SEQ_RESERVATION_BLOCK } from './agent-sequence';

describe(AgentSequence.name, () => {
  it('starts at the clock in milliseconds and counts up by one', () => {
    const seq = new AgentSequence(undefined, 1_700_000_000_000, () => undefined);
    expect([seq.take(), seq.take(), seq.take()]).toEqual([
      1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002,
    ]);
  });

  it('persists a ceiling once per block, not once per batch', () => {
    const saved: number[] = [];
    const seq = new AgentSequence(undefined, 0, (c) => saved.push(c));
    for (let i = 0; i < SEQ_RESERVATION_BLOCK * 2 + 1; i++) seq.take();
    expect(saved).toEqual([SEQ_RESERVATION_BLOCK, SEQ_RESERVATION_BLOCK * 2, SEQ_RESERVATION_BLOCK * 3]);
  });

  it('never reuses a number after a restart, even when the clock was set back', () => {
    let ceiling: number | undefined;
    const first = new AgentSequence(ceiling, 5_000_000, (c) => (ceiling = c));
    const used = Array.from({ length: 10 }, () => first.take());
    const restarted = new AgentSequence(ceiling, 1_000, (c) => (ceiling = c));
    expect(restarted.take()).toBeGreaterThan(Math.max(...used));
  });
});
