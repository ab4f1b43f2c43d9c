import { Migrations } from '@app/persistence';

/** Schema of the provisioning service, applied at start-up. */
export const migrations: Migrations = {};
