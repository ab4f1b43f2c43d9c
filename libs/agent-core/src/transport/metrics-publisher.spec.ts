import pino from 'pino';
import { Writable } from 'node:stream';
import { AgentSequence } from './agent-sequence';
import { AgentIdentity, AgentWire } from './agent-wire';
import { PendingBatch } from './metrics-buffer';
import { MetricsPublisher } from './metrics-publisher';

/** A wire whose publishes settle when the test says so: the order of acks is the subject here. */
class ScriptedWire implements AgentWire {
  readonly calls: { seq: number; settle: (error?: Error) => void }[] = [];
  enroll = () => Promise.reject(new Error('not used'));
  publishHeartbeat = () => undefined;
  onControl = () => undefined;
  onReconnect = () => undefined;
  isClosed = () => false;
  close = () => Promise.resolve();
  publishMetrics(_identity: AgentIdentity, batch: PendingBatch): Promise<void> {
    return new Promise((resolve, reject) =>
      this.calls.push({ seq: batch.seq, settle: (error) => (error ? reject(error) : resolve()) }),
    );
  }
}

const identity: AgentIdentity = { agentId: 'ag_1', environment: 'prod' };
const tick = () => new Promise((r) => setImmediate(r));

function setup() {
  const wire = new ScriptedWire();
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const publisher = new MetricsPublisher(
    wire,
    identity,
    new AgentSequence(undefined, 100, () => undefined),
    { maxBatches: 10, maxBytes: 1 << 20 },
    log,
  );
  return { wire, publisher, lines };
}

describe('MetricsPublisher', () => {
  it('sends batches one at a time, oldest first, and removes each only once it is acknowledged', async () => {
    const { wire, publisher } = setup();
    publisher.enqueue([], 1);
    publisher.enqueue([], 2);
    await tick();
    expect(wire.calls.map((c) => c.seq)).toEqual([100]);
    wire.calls[0].settle();
    await tick();
    expect(wire.calls.map((c) => c.seq)).toEqual([100, 101]);
    expect(publisher.buffer.size).toBe(1);
    wire.calls[1].settle();
    await tick();
    expect(publisher.buffer.size).toBe(0);
  });

  it('after a reconnect resends the head at once instead of waiting for the publish in flight', async () => {
    const { wire, publisher } = setup();
    publisher.enqueue([], 1);
    await tick();
    const lost = wire.calls[0];

    void publisher.resend();
    await tick();
    expect(wire.calls.map((c) => c.seq)).toEqual([100, 100]);
    wire.calls[1].settle();
    await tick();
    expect(publisher.buffer.size).toBe(0);

    // The publish from before the reconnect settles late: it must not remove the batch queued since.
    publisher.enqueue([], 2);
    await tick();
    lost.settle();
    await tick();
    expect(publisher.buffer.peek()?.seq).toBe(101);
    expect(wire.calls.map((c) => c.seq)).toEqual([100, 100, 101]);
    wire.calls[2].settle();
    await tick();
    expect(publisher.buffer.size).toBe(0);
  });

  it('keeps failed batches and warns once per failure streak, not once per attempt', async () => {
    const { wire, publisher, lines } = setup();
    publisher.enqueue([], 1);
    await tick();
    wire.calls[0].settle(new Error('TIMEOUT'));
    await tick();
    publisher.enqueue([], 2);
    await tick();
    wire.calls[1].settle(new Error('TIMEOUT'));
    await tick();
    expect(publisher.buffer.size).toBe(2);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => l.msg)).toEqual(['metrics publish failed; keeping batches buffered']);

    void publisher.flush();
    await tick();
    wire.calls[2].settle();
    await tick();
    wire.calls[3].settle();
    await tick();
    expect(publisher.buffer.size).toBe(0);
    expect(lines.some((l) => l.msg === 'metrics publishing again')).toBe(true);
  });

  it('queues a collection larger than one batch as consecutive batches sent in order', async () => {
    const { wire, publisher } = setup();
    const samples = Array.from({ length: 12_000 }, (_, i) => ({ name: 'm', value: i }));
    expect(publisher.enqueue(samples, 1)).toEqual([100, 101, 102]);
    for (let i = 0; i < 3; i++) {
      await tick();
      wire.calls[i].settle();
    }
    await tick();
    expect(wire.calls.map((c) => c.seq)).toEqual([100, 101, 102]);
    expect(publisher.buffer.size).toBe(0);
  });
});
