import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootstrapNatsService } from '@app/messaging';
import { TokensConfig } from './config';
import { TokensModule } from './tokens.module';

async function main() {
  const config = loadConfigOrExit(TokensConfig);
  await bootstrapNatsService(
    TokensModule.forRoot(config),
    { url: config.NATS_URL, token: config.NATS_TOKEN, credsFile: config.NATS_CREDS, name: 'tokens' },
    'tokens',
  );
}

void main();
