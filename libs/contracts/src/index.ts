import 'reflect-metadata';
// Ed25519 through Node's crypto for every nkeys.js user of the process (see native-ed25519.ts).
import './native-ed25519';
export * from './subjects';
export * from './errors';
export * from './validation';
export * from './tokens';
export * from './agent-messages';
export * from './agent-config';
export * from './agent-identity';
export * from './events';
export * from './rpc';
export * from './pagination';
export * from './provisioning';
export * from './fleet-lifecycle';
export * from './metrics-query';
export * from './token-format';
export * from './alerts';
export * from './webhook-signature';
