export * from './nats-server';
export * from './test-database';
export * from './wait-for';
