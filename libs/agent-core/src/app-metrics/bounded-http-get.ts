import * as http from 'node:http';
import * as https from 'node:https';

export interface BoundedGetOptions {
  timeoutMs: number;
  maxBytes: number;
  headers?: Record<string, string>;
  /** PEM text of the CA to trust (https only). */
  ca?: string;
  insecureSkipVerify?: boolean;
}

/**
 * GET with a deadline over the whole exchange (connect, headers and body) and a byte cap: past `maxBytes`
 * the socket is destroyed, so a target cannot make the agent buffer an unbounded body. Rejects with a
 * message fit for an operator (status, timeout, size).
 */
export function boundedGet(url: string, options: BoundedGetOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (error: Error | undefined, body?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(body!);
    };
    const request = client.get(
      target,
      {
        headers: options.headers,
        // No keep-alive pool: one short exchange per scrape, nothing left open between them.
        agent: false,
        ...(target.protocol === 'https:'
          ? { ca: options.ca, rejectUnauthorized: !options.insecureSkipVerify }
          : {}),
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          finish(new Error(`HTTP ${response.statusCode}`));
          return;
        }
        const declared = Number(response.headers['content-length']);
        if (declared > options.maxBytes) {
          finish(new Error(`body of ${declared} bytes exceeds the limit of ${options.maxBytes}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            finish(new Error(`body exceeds the limit of ${options.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => finish(undefined, Buffer.concat(chunks).toString('utf8')));
        response.on('error', (error) => finish(error));
      },
    );
    request.on('error', (error) => finish(error));
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
}
