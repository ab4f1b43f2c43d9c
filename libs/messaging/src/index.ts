export * from './nats-connection';
export * from './rpc-client';
export * from './rpc-server';
export * from './event-publisher';
export * from './streams';
export * from './nats.module';
export * from './bootstrap';
export * from './connection-state';
