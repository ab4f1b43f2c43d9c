import 'reflect-metadata';
import { exitOnConfigError, loadConfigOrExit } from '@app/config';
import { startIngestion } from './app';
import { IngestionConfig } from './config';

async function main() {
  await startIngestion(loadConfigOrExit(IngestionConfig)).catch(exitOnConfigError);
}

void main();
