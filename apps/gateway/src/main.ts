import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { GatewayConfig } from './config';
import { createGatewayApp } from './app';

async function main() {
  const config = loadConfigOrExit(GatewayConfig);
  const app = await createGatewayApp(config);
  await app.listen(config.PORT, config.HOST);
}

void main();
