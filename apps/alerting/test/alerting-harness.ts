import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { INestMicroservice } from '@nestjs/common';
import { connect, NatsConnection } from 'nats';
import { loadConfig } from '@app/config';
import { EventKind } from '@app/contracts';
import { bootstrapNatsService, busSettings, EventPublisher, RpcClient } from '@app/messaging';
import { SecuredBus, TestDatabase } from '@app/testing';
import { AlertingModule } from '../src/alerting.module';
import { Clock } from '@app/clock';
import { AlertingConfig } from '../src/config';

/** Time the test moves by hand: "offline for N" takes no real seconds. */
export class ManualClock extends Clock {
  constructor(private t = Date.parse('2026-01-01T00:00:00Z')) {
    super();
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  iso(): string {
    return new Date(this.t).toISOString();
  }
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The status this request was answered with. */
  status: number;
}

/**
 * A real HTTP server standing in for a customer's webhook endpoint. It answers with the
 * queued statuses in order (then 200), optionally after a delay.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests that arrived, including ones still being answered. */
  started = 0;
  private statuses: number[] = [];
  private delayMs = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.started++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.statuses.shift() ?? 200;
        setTimeout(() => {
          this.requests.push({
            headers: req.headers,
            rawBody: Buffer.concat(chunks).toString('utf8'),
            status,
          });
          res
            .writeHead(status, { 'content-type': 'text/plain' })
            .end(status === 200 ? 'ok' : 'receiver down');
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  failNext(...statuses: number[]): void {
    this.statuses.push(...statuses);
  }

  delay(ms: number): void {
    this.delayMs = ms;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** The alerting service as `main.ts` runs it, in-process, with a manual clock and fast ticks. */
export async function startAlerting(
  natsUrl: string,
  db: TestDatabase,
  clock: Clock,
  bus?: SecuredBus,
): Promise<INestMicroservice> {
  const config = loadConfig(AlertingConfig, {
    NATS_URL: natsUrl,
    ...(bus ? { NATS_CREDS: bus.credsFile('alerting'), NATS_CA_FILE: bus.caFile } : {}),
    ...db.env,
    LOG_LEVEL: 'silent',
    METRICS_PORT: '0',
    ALERTING_TICK_MS: '25',
    ALERT_DELIVERY_BACKOFF_MS: '1000',
    ALERT_DELIVERY_MAX_ATTEMPTS: '4',
    ALERT_DELIVERY_TIMEOUT_MS: '2000',
    // The test receivers listen on loopback, which webhooks may not reach by default.
    ALERT_WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  });
  return bootstrapNatsService(
    AlertingModule.forRoot(config, { clock }),
    busSettings(config, 'alerting'),
    'alerting',
  );
}

/** What other services do: publish facts and call RPC patterns over a real NATS connection. */
export class Platform {
  private constructor(
    readonly nc: NatsConnection,
    readonly rpc: RpcClient,
    readonly events: EventPublisher,
  ) {}

  static async connect(natsUrl: string): Promise<Platform> {
    const nc = await connect({ servers: natsUrl });
    return new Platform(nc, new RpcClient(nc, 5000), new EventPublisher(nc));
  }

  publish(kind: EventKind, organizationId: string, agentId: string | null, occurredAt: string, data = {}) {
    return this.events.publish({ kind, organizationId, environment: 'prod-1', agentId, occurredAt, data });
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

/** Lets the service's 25 ms ticks run a few times: for asserting that nothing happens. */
export const fewTicks = () => new Promise((r) => setTimeout(r, 200));
