export * from './logging';
export * from './metrics-server';
