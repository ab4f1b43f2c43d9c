import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootstrapNatsService } from '@app/messaging';
import { ProvisioningConfig } from './config';
import { ProvisioningModule } from './provisioning.module';

async function main() {
  const config = loadConfigOrExit(ProvisioningConfig);
  await bootstrapNatsService(
    ProvisioningModule.forRoot(config),
    { url: config.NATS_URL, token: config.NATS_TOKEN, credsFile: config.NATS_CREDS, name: 'provisioning' },
    'provisioning',
  );
}

void main();
