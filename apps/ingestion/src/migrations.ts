import { Migrations } from '@app/persistence';

/** Schema of the ingestion service, applied at start-up. */
export const migrations: Migrations = {};
