import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { NatsConnection } from 'nats';
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
        { provide: NATS_CONNECTION, useFactory: () => connectNats(settings) },
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
