export * from './logging';
export * from './metrics-server';
export * from './health-server';
export * from './service-metrics';
