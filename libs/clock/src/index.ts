export * from './clock';
export * from './periodic-job';
