import { ErrorCodes } from '@app/contracts';
import { ConcurrencyGate } from './concurrency-gate';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe(ConcurrencyGate.name, () => {
  it('never runs more tasks at once than its limit and runs queued ones in order', async () => {
    const gate = new ConcurrencyGate(2, 10, 60_000);
    const blockers = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = blockers.map((b, i) =>
      gate.run(async () => {
        started.push(i);
        await b.promise;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(gate.waiting).toBe(1);
    blockers[0].resolve();
    await runs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    blockers[1].resolve();
    blockers[2].resolve();
    await Promise.all(runs);
    expect(gate.active).toBe(0);
  });

  it('refuses at once with RATE_LIMITED when the queue is full', async () => {
    const gate = new ConcurrencyGate(1, 1, 60_000);
    const block = deferred();
    const first = gate.run(() => block.promise);
    const second = gate.run(async () => undefined);
    await expect(gate.run(async () => undefined)).rejects.toMatchObject({ code: ErrorCodes.RATE_LIMITED });
    block.resolve();
    await Promise.all([first, second]);
  });

  it('refuses a request that waited longer than its callers would, instead of starting it late', async () => {
    let now = 0;
    const gate = new ConcurrencyGate(1, 10, 2_000, () => now);
    const block = deferred();
    const first = gate.run(() => block.promise);
    let ran = false;
    const stale = gate.run(async () => {
      ran = true;
    });
    now = 2_001;
    block.resolve();
    await first;
    await expect(stale).rejects.toMatchObject({ code: ErrorCodes.RATE_LIMITED });
    expect(ran).toBe(false);
    expect(gate.active).toBe(0);
  });
});
