export * from './nats-server';
export * from './test-database';
export * from './wait-for';
export * from './stored-events';
export * from './optional-tools';
