/** One Jest run covers unit specs next to the code and the end-to-end suite in test/. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const moduleNameMapper = {
  '^@app/(contracts|config|persistence|messaging|observability|testing|agent-core|auth|clock|outbox|nats-auth)$':
    '<rootDir>/libs/$1/src',
  // Single files of a lib, for code that must not load the lib's Nest modules (the agent keeps its RSS small).
  '^@app/messaging/(.*)$': '<rootDir>/libs/messaging/src/$1',
};
/**
 * The OpenTelemetry exporters load node:http with `import()`, which Jest's CommonJS sandbox refuses
 * (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG): that one package is compiled like our code, into require().
 */
const transformedPackages = '@opentelemetry/otlp-exporter-base';
const common = {
  setupFiles: ['reflect-metadata'],
  transform: { '^.+\\.ts$': swc, [`/node_modules/${transformedPackages}/.+\\.js$`]: swc },
  transformIgnorePatterns: [`/node_modules/(?!${transformedPackages}/)`],
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
};
module.exports = {
  testTimeout: 60000,
  // A leaked handle (say, a NATS client still reconnecting to a test's stopped server) must not hold the
  // run until CI's time limit, as it once did: Jest still prints a warning when it has to force the exit.
  forceExit: true,
  // Names each optional tool a test lacked (libs/testing/src/optional-tools.ts) and sums them up at the end.
  reporters: ['default', '<rootDir>/libs/testing/src/optional-tools.reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
    // The cluster fault suite (RELIABILITY.md, "Fault suite"): three nats-servers, two instances per service.
    { ...common, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.faults-spec.ts'] },
  ],
};
