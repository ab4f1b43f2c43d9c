import { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { natsMicroserviceOptions, RpcErrorFilter, RpcValidationPipe } from './rpc-server';
import { NatsConnectionSettings } from './nats-connection';

/**
 * Starts a NATS-only NestJS service: request/reply handlers in queue group `queue`,
 * validated payloads, coded errors, pino logs, clean shutdown on SIGTERM/SIGINT.
 */
export async function bootstrapNatsService(
  module: Type<unknown> | DynamicModule,
  settings: NatsConnectionSettings,
  queue: string,
): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(module, {
    ...natsMicroserviceOptions(settings, queue),
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new RpcValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  app.enableShutdownHooks();
  try {
    await app.listen();
  } catch (error) {
    // A start-up that fails halfway (a setting the server refuses) must not leave its NATS connections
    // reconnecting forever in a process that goes on (a test run, an embedding host).
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
