import { CommonConfig } from '@app/config';

/** Environment variables read by the ingestion service. */
export class IngestionConfig extends CommonConfig {}
