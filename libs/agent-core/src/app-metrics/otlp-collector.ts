import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { MetricSample, SourceHealth } from '@app/contracts';
import { Collector, PartialCollectionError } from '../agent-type';
import { OtlpIntakeConfig } from './otlp-config';
import {
  decodeMetricsRequest,
  encodeMetricsResponse,
  encodeStatus,
  loadOtlpProtocol,
  OtlpDecodeError,
  OtlpEncoding,
} from './otlp-protocol';
import { OtlpSeriesStore } from './otlp-series-store';
import { runHealth } from './source-health';

const gunzipAsync = promisify(gunzip);

/** The OTLP/HTTP path for metrics (the spec's default; an SDK appends it to its endpoint). */
export const OTLP_METRICS_PATH = '/v1/metrics';
/** Connections served at once: each may hold a body of up to max_bytes in memory. */
const MAX_CONNECTIONS = 32;
/** A sender that stalls mid-request is dropped: the intake must not hold sockets for slow clients. */
const REQUEST_TIMEOUT_MS = 30_000;
/** google.rpc.Code for a body that cannot be used (OTLP answers 4xx with a Status). */
const INVALID_ARGUMENT = 3;

const CONTENT_TYPES: Record<string, OtlpEncoding> = {
  'application/x-protobuf': 'protobuf',
  'application/json': 'json',
};

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * OTLP/HTTP metrics intake as the collector `otlp`: `POST /v1/metrics` in protobuf or JSON (gzip or not),
 * answered as the OTLP/HTTP spec says (200 with partial success when points were refused, 400 for a body
 * that is not a request, 413 past max_bytes, 415 for another content type). The server starts at the
 * first collection, as the agent starts; a bind failure is this collector's error, retried at the next
 * one. Each collection sends the series received since the previous one; refused points and requests
 * are its error in the heartbeat, with the samples kept.
 */
export class OtlpCollector implements Collector {
  readonly name = 'otlp';
  private readonly store: OtlpSeriesStore;
  private server?: Server;
  /** Reason → requests refused since the last collection. */
  private refusedRequests = new Map<string, number>();
  private last?: SourceHealth;
  /** Requests answered 200 since it started listening. */
  accepted = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly config: OtlpIntakeConfig,
  ) {
    this.store = new OtlpSeriesStore(config);
  }

  async collect(): Promise<MetricSample[]> {
    const startedAt = Date.now();
    const report = (failed: boolean, problem: string | undefined, series: number) =>
      (this.last = runHealth(this.name, { startedAt, endedAt: Date.now(), failed, problem, series }));
    if (!this.server)
      await this.listen().catch((error: Error) => {
        report(true, error.message, 0);
        throw error;
      });
    const { samples, refused } = this.store.flush();
    const requests = [...this.refusedRequests].map(
      ([reason, n]) => `${n} request${n === 1 ? '' : 's'} refused (${reason})`,
    );
    this.refusedRequests = new Map();
    const problems = [...requests, ...(refused ? [refused] : [])].join('; ');
    report(false, problems || undefined, samples.length);
    if (problems) throw new PartialCollectionError(problems, samples);
    return samples;
  }

  /** The intake's health after its last collection (none before it); reported in the heartbeat. */
  health(): SourceHealth[] {
    return this.last ? [this.last] : [];
  }

  /** The bound address (port 0 in tests picks a free one). */
  address(): { address: string; port: number } | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  async listen(): Promise<void> {
    loadOtlpProtocol();
    const server = createServer(
      { requestTimeout: REQUEST_TIMEOUT_MS },
      (req, res) => void this.handle(req, res),
    );
    server.maxConnections = MAX_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new Error(`cannot listen on ${this.host}:${this.port}: ${error.message}`)),
      );
      server.listen(this.port, this.host, () => resolve());
    });
    // An error on a client's socket must not crash the agent; the server goes on.
    server.on('error', () => undefined);
    server.on('clientError', (_error, socket) => socket.destroy());
    server.unref(); // never what keeps the agent's process alive
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const encoding = CONTENT_TYPES[(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()];
    try {
      if ((req.url ?? '').split('?')[0] !== OTLP_METRICS_PATH)
        throw new HttpRefusal(404, `only ${OTLP_METRICS_PATH} is served`);
      if (req.method !== 'POST') throw new HttpRefusal(405, 'only POST is accepted');
      if (!encoding)
        throw new HttpRefusal(415, 'Content-Type must be application/x-protobuf or application/json');
      const body = await this.readBody(req);
      const result = this.store.ingest(decodeMetricsRequest(body, encoding));
      this.accepted++;
      const answer = encodeMetricsResponse(
        encoding,
        result.rejectedDataPoints
          ? { rejectedDataPoints: result.rejectedDataPoints, errorMessage: result.errorMessage ?? '' }
          : undefined,
      );
      this.reply(res, 200, encoding, answer);
    } catch (error) {
      const refusal =
        error instanceof HttpRefusal
          ? error
          : error instanceof OtlpDecodeError
            ? new HttpRefusal(400, error.message)
            : new HttpRefusal(500, 'the agent could not handle the request');
      this.count(refusal.status === 400 ? 'not an OTLP metrics request' : `HTTP ${refusal.status}`);
      this.reply(
        res,
        refusal.status,
        encoding ?? 'json',
        encodeStatus(encoding ?? 'json', INVALID_ARGUMENT, refusal.message),
      );
      // The rest of a refused body is read and dropped, not kept, so the sender can read the answer
      // (closing at once would reset the connection under it); requestTimeout bounds how long.
      req.resume();
    }
  }

  /** The body, gzip undone, at most max_bytes before and after; a larger one is a 413. */
  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const max = this.config.max_bytes;
    const tooLarge = () => new HttpRefusal(413, `the body is larger than max_bytes (${max})`);
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (contentEncoding !== 'identity' && contentEncoding !== 'gzip')
      throw new HttpRefusal(415, 'Content-Encoding must be gzip or none');
    if (Number(req.headers['content-length'] ?? 0) > max) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw tooLarge();
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    if (contentEncoding === 'identity') return body;
    try {
      return await gunzipAsync(body, { maxOutputLength: max });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw new HttpRefusal(400, `the gzip body cannot be read: ${(error as Error).message}`);
    }
  }

  private reply(res: ServerResponse, status: number, encoding: OtlpEncoding, body: Buffer): void {
    const type = encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json';
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
    res.end(body);
  }

  private count(reason: string): void {
    this.refusedRequests.set(reason, (this.refusedRequests.get(reason) ?? 0) + 1);
  }
}
