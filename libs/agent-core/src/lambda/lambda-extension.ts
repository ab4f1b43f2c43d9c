import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/** The file name of the launcher in the layer (/opt/extensions/<name>): Lambda requires it as the extension's name. */
export const EXTENSION_NAME = 'rca-agent';
/** The host name Lambda resolves to the execution environment for Telemetry API destinations. */
export const SANDBOX_HOST = 'sandbox.localdomain';
/** A telemetry batch larger than this is refused (Lambda's own maxBytes ceiling is 1 MiB). */
const MAX_BATCH_BYTES = 1024 * 1024;

/** What the Extensions API answers at registration (accountId only with the accountId feature). */
export interface Registration {
  extensionId: string;
  functionName: string;
  functionVersion: string;
  accountId?: string;
}

/** An event of `GET /2020-01-01/extension/event/next`. */
export type ExtensionEvent =
  | { eventType: 'INVOKE'; requestId?: string; deadlineMs?: number; invokedFunctionArn?: string }
  | { eventType: 'SHUTDOWN'; shutdownReason?: string; deadlineMs?: number };

/** A refusal or failure of the Extensions or Telemetry API, with what it was doing. */
export class ExtensionsApiError extends Error {}

/**
 * The Lambda Extensions API (register, next event) and Telemetry API (subscribe), over HTTP at the
 * Runtime API address Lambda gives the environment (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html).
 */
export class ExtensionsApi {
  private extensionId?: string;

  constructor(private readonly runtimeApi: string) {}

  async register(): Promise<Registration> {
    const response = await this.request(
      'POST',
      '/2020-01-01/extension/register',
      { events: ['INVOKE', 'SHUTDOWN'] },
      {
        'Lambda-Extension-Name': EXTENSION_NAME,
        'Lambda-Extension-Accept-Feature': 'accountId',
      },
    );
    const extensionId = response.headers.get('lambda-extension-identifier');
    const body = (await response.json()) as Record<string, unknown>;
    if (!extensionId || typeof body.functionName !== 'string')
      throw new ExtensionsApiError(
        'the Extensions API answered the registration without an identifier or function name',
      );
    this.extensionId = extensionId;
    return {
      extensionId,
      functionName: body.functionName,
      functionVersion: typeof body.functionVersion === 'string' ? body.functionVersion : '$LATEST',
      accountId: typeof body.accountId === 'string' ? body.accountId : undefined,
    };
  }

  /** Platform events only: the agent never subscribes to the function's or extensions' logs. */
  async subscribeTelemetry(destination: string): Promise<void> {
    await this.request('PUT', '/2022-07-01/telemetry', {
      schemaVersion: '2022-12-13',
      types: ['platform'],
      // Lambda's minimum timeout: reports reach the agent while the environment is still thawed.
      buffering: { maxItems: 1000, maxBytes: 262_144, timeoutMs: 25 },
      destination: { protocol: 'HTTP', URI: destination },
    });
  }

  /** Blocks until Lambda has an event for the extension; meanwhile the environment may be frozen. */
  async next(): Promise<ExtensionEvent> {
    const response = await this.request('GET', '/2020-01-01/extension/event/next');
    const event = (await response.json()) as ExtensionEvent;
    if (event.eventType !== 'INVOKE' && event.eventType !== 'SHUTDOWN')
      throw new ExtensionsApiError(
        `the Extensions API sent an unknown event ${JSON.stringify((event as { eventType?: unknown }).eventType)}`,
      );
    return event;
  }

  private async request(
    method: string,
    path: string,
    body?: object,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const url = `http://${this.runtimeApi}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...headers,
          ...(this.extensionId ? { 'Lambda-Extension-Identifier': this.extensionId } : {}),
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new ExtensionsApiError(
        `${method} ${path} at ${this.runtimeApi} failed: ${(error as Error).message}`,
      );
    }
    if (!response.ok)
      throw new ExtensionsApiError(
        `${method} ${path} answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
      );
    return response;
  }
}

/**
 * The HTTP destination the Telemetry API pushes batches to: each POST body is a JSON array of events,
 * handed to `onBatch`. Answers 200 at once (Lambda retries a batch that fails) and 400 to a body that
 * is not JSON, so a bad batch is not retried for ever.
 */
export class TelemetryListener {
  private server?: Server;

  constructor(private readonly onBatch: (events: unknown) => void) {}

  /** Listens on `host:port` (port 0: any); returns the port. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      void readBody(req).then(
        (text) => {
          let events: unknown;
          try {
            events = JSON.parse(text);
          } catch {
            return void res.writeHead(400).end('not JSON');
          }
          this.onBatch(events);
          res.writeHead(200).end();
        },
        () => res.writeHead(413).end('batch too large'),
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BATCH_BYTES) {
        req.destroy();
        reject(new Error('too large'));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
