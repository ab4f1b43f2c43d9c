export * from './cached-token-verifier';
export * from './verify-batcher';
