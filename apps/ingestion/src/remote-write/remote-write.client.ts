import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { IngestionConfig } from '../config';

/**
 * What the receiver made of one request. `retry`: not the data's fault (unreachable, timed out, 5xx,
 * 429 Too Many Requests), send it again later. `rejected`: any other 4xx, the receiver will never take
 * this data (malformed, out of bounds, too old): retrying cannot help.
 */
export type RemoteWriteResult =
  | { ok: true }
  | { ok: false; retry: true; reason: string }
  | { ok: false; retry: false; status: number; reason: string };

/** How much of a refusal's body goes into the log and the dead-letter detail. */
const REASON_MAX_CHARS = 300;

/**
 * Posts remote-write bodies to the configured receiver (Prometheus remote-write 1.0 headers), with
 * the configured auth (bearer token, basic auth, extra headers such as Mimir's `X-Scope-OrgID`) and
 * TLS trust; one keep-alive connection pool per process.
 */
export class RemoteWriteClient {
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;

  constructor(config: IngestionConfig) {
    if (!config.REMOTE_WRITE_URL) throw new Error('REMOTE_WRITE_URL is not set');
    this.url = new URL(config.REMOTE_WRITE_URL);
    this.timeoutMs = config.REMOTE_WRITE_TIMEOUT_SECONDS * 1000;
    const extra = config.REMOTE_WRITE_HEADERS
      ? (JSON.parse(config.REMOTE_WRITE_HEADERS) as Record<string, string>)
      : {};
    this.headers = {
      ...extra,
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      'User-Agent': 'rca-agent-connector-ingestion',
    };
    if (config.REMOTE_WRITE_BEARER_TOKEN)
      this.headers.Authorization = `Bearer ${config.REMOTE_WRITE_BEARER_TOKEN}`;
    else if (config.REMOTE_WRITE_BASIC_AUTH_USERNAME !== undefined)
      this.headers.Authorization = `Basic ${Buffer.from(
        `${config.REMOTE_WRITE_BASIC_AUTH_USERNAME}:${config.REMOTE_WRITE_BASIC_AUTH_PASSWORD ?? ''}`,
      ).toString('base64')}`;
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            ca: config.REMOTE_WRITE_CA_FILE ? readFileSync(config.REMOTE_WRITE_CA_FILE) : undefined,
          })
        : new HttpAgent({ keepAlive: true });
  }

  send(body: Uint8Array): Promise<RemoteWriteResult> {
    const request = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'Content-Length': body.byteLength },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (error) => resolve({ ok: false, retry: true, reason: String(error) }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve({ ok: true });
            const reason = `HTTP ${status}: ${Buffer.concat(chunks).toString('utf8').trim().slice(0, REASON_MAX_CHARS)}`;
            if (status === 429 || status >= 500 || status < 400) resolve({ ok: false, retry: true, reason });
            else resolve({ ok: false, retry: false, status, reason });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (error) => resolve({ ok: false, retry: true, reason: String(error) }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
