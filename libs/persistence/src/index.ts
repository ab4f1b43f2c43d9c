export * from './database';
export * from './migrate';
export * from './database.module';
export * from './database-health';
