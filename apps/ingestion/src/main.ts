import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { startIngestion } from './app';
import { IngestionConfig } from './config';

async function main() {
  await startIngestion(loadConfigOrExit(IngestionConfig));
}

void main();
