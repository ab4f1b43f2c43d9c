import { RpcErrorPayload } from './errors';

/**
 * The NestJS NATS transport's packet format. Services use `@MessagePattern`; every other caller
 * (the agent, the gateway's RpcClient) speaks this envelope directly over nats.js.
 */
export interface RpcRequestPacket<T = unknown> {
  pattern: string;
  data: T;
  id: string;
}
export interface RpcResponsePacket<T = unknown> {
  id: string;
  response?: T;
  err?: RpcErrorPayload | unknown;
  isDisposed?: boolean;
}

/** Default time to wait for a reply; every request has one. */
export const DEFAULT_RPC_TIMEOUT_MS = 5000;
