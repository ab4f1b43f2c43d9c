export * from './cached-token-verifier';
