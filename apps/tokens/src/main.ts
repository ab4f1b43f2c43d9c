import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootstrapNatsService, busSettings } from '@app/messaging';
import { TokensConfig } from './config';
import { TokensModule } from './tokens.module';

async function main() {
  const config = loadConfigOrExit(TokensConfig);
  await bootstrapNatsService(TokensModule.forRoot(config), busSettings(config, 'tokens'), 'tokens');
}

void main();
