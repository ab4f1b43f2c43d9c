import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KeyPair } from 'nkeys.js';
import {
  AGENT_SIGNATURE_HEADER,
  AgentJwt,
  AgentStatements,
  DomainError,
  EnrollReply,
  EnrollRequest,
  ErrorCodes,
  formatAgentSignatureHeader,
  Headers,
  PROTOCOL_VERSION,
  RenewAgentJwtRequest,
  signStatement,
} from '@app/contracts';

/** The gateway's agent intake (apps/gateway/src/intake). */
const INTAKE_PATH = '/api/v1/intake';
/** Replies are small JSON documents; anything larger is not our gateway. */
const MAX_REPLY_BYTES = 1024 * 1024;

export interface PlatformClientOptions {
  platformUrl: string;
  timeoutMs: number;
  /** PEM of the CA to trust for https:// (the platform CA); the system's roots otherwise. */
  ca?: string;
  clock?: () => number;
}

/**
 * The agent's HTTP(S) link to the gateway: enrollment (with the enrollment token), JWT renewal and
 * every other request signed with the agent's own key. A refusal arrives as a DomainError with the
 * platform's code; an unreachable gateway (or a proxy error page) as UNAVAILABLE, which callers retry.
 */
export class PlatformClient {
  private readonly base: URL;
  private readonly clock: () => number;

  constructor(private readonly options: PlatformClientOptions) {
    this.base = new URL(options.platformUrl.replace(/\/+$/, '') + INTAKE_PATH + '/');
    this.clock = options.clock ?? Date.now;
  }

  enroll(token: string, request: EnrollRequest): Promise<EnrollReply> {
    return this.post<EnrollReply>('enroll', JSON.stringify(request), { authorization: `Bearer ${token}` });
  }

  /** A fresh JWT for `key`, proven by a signature; works when the old JWT has already expired. */
  renew(agentId: string, key: KeyPair): Promise<AgentJwt> {
    const signedAt = this.clock();
    const publicKey = key.getPublicKey();
    const request: RenewAgentJwtRequest = {
      agentId,
      publicKey,
      signedAt,
      signature: signStatement(key, AgentStatements.renew(agentId, publicKey, signedAt)),
    };
    return this.post<AgentJwt>('renew', JSON.stringify(request));
  }

  /** POSTs `body` to an intake route, signed by the agent's key (method, route, time, body digest). */
  signedPost<T>(route: string, agentId: string, key: KeyPair, body: string | Uint8Array): Promise<T> {
    const bytes =
      typeof body === 'string'
        ? Buffer.from(body)
        : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const signedAt = this.clock();
    const digest = createHash('sha256').update(bytes).digest('hex');
    const signature = signStatement(key, AgentStatements.request('POST', route, signedAt, digest));
    return this.post<T>(route, bytes, {
      [AGENT_SIGNATURE_HEADER]: formatAgentSignatureHeader(agentId, signedAt, signature),
    });
  }

  /** The platform CA certificate as served (not yet trusted: the caller checks its pin). */
  async caCertificate(): Promise<string> {
    const { status, text } = await this.send('GET', new URL('ca.pem', this.base), undefined, {}, true);
    if (status !== 200) throw new DomainError(ErrorCodes.UNAVAILABLE, `GET ca.pem: HTTP ${status}`);
    return text;
  }

  private async post<T>(
    route: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const url = new URL(route, this.base);
    const { status, text } = await this.send('POST', url, body, {
      'content-type': 'application/json',
      [Headers.protocolVersion]: String(PROTOCOL_VERSION),
      ...headers,
    });
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : undefined;
    } catch {
      payload = { message: text.slice(0, 200) };
    }
    if (status >= 200 && status < 300) return payload as T;
    const error = DomainError.fromPayload(payload);
    // A gateway or proxy error without our body is a transport problem: retry, do not give up.
    if (error.code === ErrorCodes.INTERNAL && status >= 500)
      throw new DomainError(ErrorCodes.UNAVAILABLE, `POST ${url.pathname}: HTTP ${status}`);
    throw error;
  }

  /**
   * One request with node's http(s) (fetch cannot take a CA per request). `insecure` skips server
   * verification: only for downloading the CA, whose pin is checked afterwards.
   */
  private send(
    method: 'GET' | 'POST',
    url: URL,
    body: string | Buffer | undefined,
    headers: Record<string, string>,
    insecure = false,
  ): Promise<{ status: number; text: string }> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers:
            body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          timeout: this.options.timeoutMs,
          ...(url.protocol === 'https:' ? { ca: this.options.ca, rejectUnauthorized: !insecure } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) req.destroy(new Error('reply too large'));
            else chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no reply within ${this.options.timeoutMs} ms`)));
      req.on('error', (error) =>
        reject(
          new DomainError(ErrorCodes.UNAVAILABLE, `${method} ${url.origin}${url.pathname}: ${error.message}`),
        ),
      );
      req.end(body);
    });
  }
}
