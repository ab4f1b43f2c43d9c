import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { GatewayConfig } from './config';
import { createGatewayApp, listenHttps } from './app';

async function main() {
  const config = loadConfigOrExit(GatewayConfig);
  const app = await createGatewayApp(config);
  await app.listen(config.PORT, config.HOST);
  await listenHttps(app, config);
}

void main();
