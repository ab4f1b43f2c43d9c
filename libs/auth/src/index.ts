export * from './cached-token-verifier';
export * from './verify-batcher';
export * from './lookup-batcher';
export * from './agent-directory';
