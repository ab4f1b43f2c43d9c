import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { quantile } from './harness';

export interface HttpLoadOptions {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  /** Requests in flight at once (one keep-alive connection each). */
  concurrency: number;
  /** Stops after this long… */
  durationMs: number;
  /** …or after this many requests, whichever comes first. */
  maxRequests: number;
  /** Status counted as success. */
  expectStatus: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  failed: number;
  /** First unexpected status or error, for the log. */
  firstFailure?: string;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * A closed-loop HTTP load generator: `concurrency` workers, each sends its next request
 * as soon as the previous answer arrives, over keep-alive connections. Bounded in time
 * and count. Latency is measured per request with the monotonic clock.
 */
export async function httpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const url = new URL(options.url);
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  const latencies = new Float64Array(options.maxRequests);
  let issued = 0;
  let completed = 0;
  let ok = 0;
  let firstFailure: string | undefined;
  const start = performance.now();
  const deadline = start + options.durationMs;

  const one = () =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: options.method, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latencies[completed++] = performance.now() - sent;
            if (res.statusCode === options.expectStatus) ok++;
            else firstFailure ??= `HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`;
            resolve();
          });
        },
      );
      req.on('error', (error) => {
        latencies[completed++] = performance.now() - sent;
        firstFailure ??= error.message;
        resolve();
      });
      req.end(payload);
    });

  const worker = async () => {
    while (issued < options.maxRequests && performance.now() < deadline) {
      issued++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = latencies.slice(0, completed).sort();
  return {
    requests: completed,
    ok,
    failed: completed - ok,
    firstFailure,
    seconds,
    requestsPerSecond: ok / seconds,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
  };
}

/** A port nobody listens on right now (the kernel picks it; a tiny race before the service binds it is acceptable on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
