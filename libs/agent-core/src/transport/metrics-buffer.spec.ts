import { MetricsBuffer } from './metrics-buffer';

const batch = (seq: number, bytes = 10) => ({ seq, data: new Uint8Array(bytes) });

describe(MetricsBuffer.name, () => {
  it('keeps batches in order until each is acknowledged', () => {
    const buffer = new MetricsBuffer({ maxBatches: 10, maxBytes: 1000 });
    [1, 2, 3].forEach((s) => buffer.push(batch(s)));
    const sent: number[] = [];
    for (let head = buffer.peek(); head; head = buffer.peek()) {
      sent.push(head.seq);
      buffer.shift();
    }
    expect(sent).toEqual([1, 2, 3]);
    expect(buffer.byteSize).toBe(0);
  });

  it('reports how full it is by whichever bound is closer, batches or bytes', () => {
    const buffer = new MetricsBuffer({ maxBatches: 10, maxBytes: 1000 });
    expect(buffer.fill).toBe(0);
    [1, 2].forEach((s) => buffer.push(batch(s, 10)));
    expect(buffer.fill).toBe(0.2);
    buffer.push(batch(3, 480));
    expect(buffer.fill).toBe(0.5);
    buffer.shift();
    buffer.shift();
    buffer.shift();
    expect(buffer.fill).toBe(0);
  });

  it('drops the oldest batch first when the count bound is reached, and counts it', () => {
    const buffer = new MetricsBuffer({ maxBatches: 3, maxBytes: 1_000_000 });
    [1, 2, 3, 4, 5].forEach((s) => buffer.push(batch(s)));
    expect(buffer.size).toBe(3);
    expect(buffer.peek()!.seq).toBe(3);
    expect(buffer.dropped).toBe(2);
  });

  it('drops the oldest batches when the byte bound is reached', () => {
    const buffer = new MetricsBuffer({ maxBatches: 100, maxBytes: 250 });
    [1, 2, 3].forEach((s) => buffer.push(batch(s, 100)));
    expect(buffer.size).toBe(2);
    expect(buffer.byteSize).toBe(200);
    expect(buffer.peek()!.seq).toBe(2);
    expect(buffer.dropped).toBe(1);
  });

  it('keeps a single batch larger than the byte bound rather than dropping everything', () => {
    const buffer = new MetricsBuffer({ maxBatches: 100, maxBytes: 50 });
    buffer.push(batch(1, 100));
    expect(buffer.size).toBe(1);
  });
});
