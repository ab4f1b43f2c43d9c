import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Events, NatsConnection } from 'nats';
import { connectNats, NatsConnectionSettings } from './nats-connection';
import { RpcClient } from './rpc-client';
import { EventPublisher } from './event-publisher';

/** Injection token for the service's own nats.js connection (JetStream, events, raw subscriptions). */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

@Injectable()
class NatsConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}
  async onApplicationShutdown(): Promise<void> {
    // drain() lets in-flight publishes and subscriptions finish before closing.
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

/** Logs each loss and return of the link, naming the node: where a fault was, and which node the client moved to. */
async function logLinkChanges(nc: NatsConnection): Promise<void> {
  const logger = new Logger('NatsConnection');
  for await (const status of nc.status()) {
    if (status.type === Events.Disconnect)
      logger.warn({ server: status.data }, 'NATS connection lost; reconnecting to a node of the cluster');
    else if (status.type === Events.Reconnect) logger.log({ server: status.data }, 'NATS connection back');
  }
}

/**
 * One nats.js connection per process, with an RpcClient (`requestTimeoutMs`) and an
 * EventPublisher built on it.
 */
@Global()
@Module({})
export class NatsModule {
  static forRoot(settings: NatsConnectionSettings & { requestTimeoutMs: number }): DynamicModule {
    return {
      module: NatsModule,
      providers: [
        {
          provide: NATS_CONNECTION,
          useFactory: async () => {
            const nc = await connectNats(settings);
            void logLinkChanges(nc);
            return nc;
          },
        },
        {
          provide: RpcClient,
          useFactory: (nc: NatsConnection) => new RpcClient(nc, settings.requestTimeoutMs),
          inject: [NATS_CONNECTION],
        },
        {
          provide: EventPublisher,
          useFactory: (nc: NatsConnection) => new EventPublisher(nc),
          inject: [NATS_CONNECTION],
        },
        NatsConnectionCloser,
      ],
      exports: [NATS_CONNECTION, RpcClient, EventPublisher],
    };
  }
}
