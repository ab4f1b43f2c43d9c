export * from './bus-permissions';
export * from './account-claims';
export * from './bus-authority';
export * from './platform-ca';
export * from './nats-server-config';
