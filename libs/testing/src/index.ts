export * from './nats-server';
export * from './cuttable-link';
export * from './test-database';
export * from './wait-for';
export * from './stored-events';
export * from './fake-platform';
export * from './test-agent-key';
export * from './optional-tools';
