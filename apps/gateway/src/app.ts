import { readFileSync } from 'node:fs';
import { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { json } from 'express';
import { Logger } from 'nestjs-pino';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator';
import { authenticateBeforeBody } from './auth/authenticate-before-body';
import { GatewayConfig } from './config';
import { GatewayModule } from './gateway.module';
import { requireJsonBodies } from './http/json-body.middleware';
import { createOpenApiDocument } from './http/openapi';

const INTAKE_BODY_LIMIT = '8mb';

/** Builds the HTTP app (used by main.ts and by tests, which listen on port 0). */
export async function createGatewayApp(config: GatewayConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    bufferLogs: true,
    // Agents sign their intake requests over the exact bytes they sent (kept by the intake's parser below).
  });
  // Body limits per route, before anything parses: the HTTP intake carries whole metrics batches (up to
  // MAX_SAMPLES_PER_BATCH samples, with the bytes kept for the agent's signature); every other route takes
  // small JSON. Beyond the limit: 413 without reading the rest.
  app.use(
    '/api/v1/intake',
    json({
      limit: INTAKE_BODY_LIMIT,
      verify: (req: IncomingMessage & { rawBody?: Buffer }, _res, buffer) => (req.rawBody = buffer),
    }),
  );
  // Who is asking before what they send: a request without a valid key is refused unread.
  app.use(authenticateBeforeBody(app.get(ApiKeyAuthenticator)));
  app.useBodyParser('json', { limit: config.API_BODY_LIMIT_KB * 1024 });
  app.use('/api', requireJsonBodies);
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document);
  return app;
}

/**
 * A second listener for agents: the same app over HTTPS (TLS_CERT_FILE/TLS_KEY_FILE, e.g. the platform
 * CA's listener certificate), so enrollment tokens and agent requests never cross the network in clear
 * even when no TLS-terminating proxy stands in front. Closed with the app.
 */
export async function listenHttps(app: INestApplication, config: GatewayConfig): Promise<number | undefined> {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return undefined;
  const server = createServer(
    { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) },
    app.getHttpAdapter().getInstance(),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.HTTPS_PORT, config.HOST, () => resolve());
  });
  const close = app.close.bind(app);
  app.close = async () => {
    server.close();
    server.closeAllConnections();
    await close();
  };
  const address = server.address();
  return typeof address === 'object' && address ? address.port : undefined;
}
