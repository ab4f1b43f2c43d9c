import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootstrapNatsService } from '@app/messaging';
import { IngestionConfig } from './config';
import { IngestionModule } from './ingestion.module';

async function main() {
  const config = loadConfigOrExit(IngestionConfig);
  await bootstrapNatsService(
    IngestionModule.forRoot(config),
    { url: config.NATS_URL, token: config.NATS_TOKEN, credsFile: config.NATS_CREDS, name: 'ingestion' },
    'ingestion',
  );
}

void main();
