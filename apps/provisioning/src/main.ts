import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { startProvisioning } from './app';
import { ProvisioningConfig } from './config';

async function main() {
  await startProvisioning(loadConfigOrExit(ProvisioningConfig));
}

void main();
