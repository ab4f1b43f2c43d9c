import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootstrapNatsService } from '@app/messaging';
import { AlertingConfig } from './config';
import { AlertingModule } from './alerting.module';

async function main() {
  const config = loadConfigOrExit(AlertingConfig);
  await bootstrapNatsService(
    AlertingModule.forRoot(config),
    { url: config.NATS_URL, token: config.NATS_TOKEN, credsFile: config.NATS_CREDS, name: 'alerting' },
    'alerting',
  );
}

void main();
