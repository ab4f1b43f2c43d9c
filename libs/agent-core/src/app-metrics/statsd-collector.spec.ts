import { createSocket } from 'node:dgram';
import { MetricSample } from '@app/contracts';
import { waitFor } from '@app/testing';
import { PartialCollectionError } from '../agent-type';
import { parseStatsdAddress, StatsdCollector } from './statsd-collector';

/** Sends datagrams from a real UDP client, as an instrumented application does. */
async function send(port: number, packets: string[]): Promise<void> {
  const client = createSocket('udp4');
  for (const packet of packets)
    await new Promise<void>((resolve, reject) =>
      client.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
  client.close();
}

async function collect(collector: StatsdCollector): Promise<{ samples: MetricSample[]; error?: string }> {
  try {
    return { samples: await collector.collect() };
  } catch (error) {
    if (!(error instanceof PartialCollectionError)) throw error;
    return { samples: error.samples, error: error.message };
  }
}
const valueOf = (samples: MetricSample[], name: string) => samples.find((s) => s.name === name)?.value;

describe(StatsdCollector.name, () => {
  let collector: StatsdCollector;
  let port: number;

  beforeEach(async () => {
    collector = new StatsdCollector('127.0.0.1', 0, 5);
    await collector.collect(); // binds, as the agent's first collection does
    port = collector.address()!.port;
  });
  afterEach(() => collector.close());

  /** Sends, waits until every datagram has arrived, then collects once. */
  const sendAndCollect = async (packets: string[]) => {
    const before = collector.received;
    await send(port, packets);
    await waitFor(
      'the datagrams to arrive',
      async () => collector.received >= before + packets.length || undefined,
      3000,
      10,
    );
    return collect(collector);
  };

  it('aggregates counters, gauges, timers and sets received over UDP in one interval', async () => {
    const { samples, error } = await sendAndCollect([
      'orders:1|c\norders:2|c|#payment:card',
      'orders:1|c|@0.5',
      'queue.depth:10|g\nqueue.depth:-3|g',
      'checkout.time:100|ms\ncheckout.time:300|ms\ncheckout.time:200|ms',
      'users:alice|s\nusers:bob|s\nusers:alice|s',
    ]);
    expect(error).toBeUndefined();
    expect(samples.filter((s) => s.name === 'orders')).toEqual([
      { name: 'orders', value: 3, tags: { source: 'statsd' } },
      { name: 'orders', value: 2, tags: { source: 'statsd', payment: 'card' } },
    ]);
    expect(valueOf(samples, 'queue.depth')).toBe(7);
    expect(valueOf(samples, 'users')).toBe(2);
    expect(valueOf(samples, 'checkout.time.count')).toBe(3);
    expect(valueOf(samples, 'checkout.time.mean')).toBe(200);
    expect(valueOf(samples, 'checkout.time.max')).toBe(300);
    expect(valueOf(samples, 'checkout.time.p50')).toBe(200);
  });

  it('starts counters again each interval and keeps gauges at their last value', async () => {
    await sendAndCollect(['hits:5|c', 'temp:21|g']);
    const next = await collect(collector);
    expect(next.samples).toEqual([{ name: 'temp', value: 21, tags: { source: 'statsd' } }]);
  });

  it('counts malformed lines and series past its limit as its error, keeping the rest', async () => {
    const { samples, error } = await sendAndCollect([
      'not a metric',
      'a:1|c\nb:1|c\nc:1|c\nd:1|c\ne:1|c\nf:1|c\ng:1|c',
      'bad:x|c',
    ]);
    expect(samples.map((s) => s.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(error).toBe('2 malformed lines; 2 lines of new series dropped past max series');
  });

  it('reports a port already in use as its error', async () => {
    const second = new StatsdCollector('127.0.0.1', port);
    await expect(second.collect()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}`);
  });

  it('listens on 127.0.0.1 when only a port is given', () => {
    expect(parseStatsdAddress('8125')).toEqual({ host: '127.0.0.1', port: 8125 });
    expect(parseStatsdAddress('[::1]:9125')).toEqual({ host: '::1', port: 9125 });
    expect(parseStatsdAddress('x:99999')).toBeUndefined();
  });
});
