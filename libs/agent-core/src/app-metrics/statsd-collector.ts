import { createSocket, Socket } from 'node:dgram';
import { MetricSample, SourceHealth } from '@app/contracts';
import { Collector, PartialCollectionError } from '../agent-type';
import { StatsdAggregator } from './statsd-aggregator';
import { runHealth } from './source-health';

/** Series one agent aggregates from StatsD per interval; new ones past it are dropped and reported. */
export const DEFAULT_STATSD_MAX_SERIES = 2000;

/**
 * StatsD over UDP as the collector `statsd`: the socket is bound at the first collection (which runs as
 * the agent starts), every datagram is aggregated, and each collection flushes the interval's
 * aggregates. A bind failure (port in use) is this collector's error and is retried at the next one.
 */
export class StatsdCollector implements Collector {
  readonly name = 'statsd';
  private readonly aggregator: StatsdAggregator;
  private socket?: Socket;
  /** Datagrams received since it started listening. */
  received = 0;
  private last?: SourceHealth;

  constructor(
    private readonly host: string,
    private readonly port: number,
    maxSeries = DEFAULT_STATSD_MAX_SERIES,
    private readonly clock: () => number = Date.now,
  ) {
    this.aggregator = new StatsdAggregator(maxSeries);
  }

  async collect(): Promise<MetricSample[]> {
    const startedAt = this.clock();
    const report = (failed: boolean, problem: string | undefined, series: number) =>
      (this.last = runHealth(this.name, { startedAt, endedAt: this.clock(), failed, problem, series }));
    if (!this.socket)
      await this.listen().catch((error: Error) => {
        report(true, error.message, 0);
        throw error;
      });
    const { samples, problems } = this.aggregator.flush();
    report(false, problems, samples.length);
    if (problems) throw new PartialCollectionError(problems, samples);
    return samples;
  }

  health(): SourceHealth[] {
    return this.last ? [this.last] : [];
  }

  /** The bound address (port 0 in tests picks a free one). */
  address(): { address: string; port: number } | undefined {
    return this.socket?.address();
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  async listen(): Promise<void> {
    const socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', (message) => {
      this.received++;
      this.aggregator.ingest(message.toString('utf8'));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error) => {
        socket.close();
        reject(new Error(`cannot listen on ${this.host}:${this.port}: ${error.message}`));
      });
      socket.bind(this.port, this.host, () => resolve());
    });
    // A datagram error after binding must not crash the agent; the socket stays usable.
    socket.on('error', () => undefined);
    socket.unref(); // never what keeps the agent's process alive
    this.socket = socket;
  }
}

/** `8125` → 127.0.0.1:8125; `0.0.0.0:8125`, `[::1]:8125` as given. Undefined when malformed. */
export function parseStatsdAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65535) return undefined;
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/** The same address form for every listener the agent opens (StatsD, OTLP). */
export const parseListenAddress = parseStatsdAddress;
