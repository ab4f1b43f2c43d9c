import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { bootstrapNatsService, busSettings } from '@app/messaging';
import { AlertingConfig } from './config';
import { AlertingModule } from './alerting.module';

async function main() {
  const config = loadConfigOrExit(AlertingConfig);
  await bootstrapNatsService(AlertingModule.forRoot(config), busSettings(config, 'alerting'), 'alerting');
}

void main();
