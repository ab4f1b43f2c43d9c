import { Migrations } from '@app/persistence';

/** Schema of the tokens service, applied at start-up. */
export const migrations: Migrations = {};
