import { INestMicroservice } from '@nestjs/common';
import { bootstrapNatsService, busSettings } from '@app/messaging';
import { IngestionConfig } from './config';
import { IngestionModule, IngestionOverrides } from './ingestion.module';

/** Queue group of the control-plane RPCs (`metrics.query`, stats): one instance answers each request. */
export const INGESTION_RPC_QUEUE = 'ingestion';

/** Builds and starts one ingestion instance; `main.ts` and the tests use the same path. */
export function startIngestion(
  config: IngestionConfig,
  overrides: IngestionOverrides = {},
): Promise<INestMicroservice> {
  return bootstrapNatsService(
    IngestionModule.forRoot(config, overrides),
    busSettings(config, 'ingestion'),
    INGESTION_RPC_QUEUE,
  );
}
