import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { GatewayConfig } from './config';
import { GatewayModule } from './gateway.module';

/** Builds the HTTP app (used by main.ts and by tests, which listen on port 0). */
export async function createGatewayApp(config: GatewayConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    bufferLogs: true,
  });
  // The HTTP intake carries whole metrics batches (up to MAX_SAMPLES_PER_BATCH samples); Express's default is 100 kB.
  app.useBodyParser('json', { limit: '8mb' });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Agent Connector API')
      .setDescription('Provision agents, track the fleet, query metrics.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Organisation API key (rca_ak_…)' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}
