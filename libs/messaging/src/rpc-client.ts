import { randomUUID } from 'node:crypto';
import { ErrorCode, MsgHdrs, NatsConnection, NatsError, headers as natsHeaders, JSONCodec } from 'nats';
import {
  DEFAULT_RPC_TIMEOUT_MS,
  DomainError,
  ErrorCodes,
  RpcRequestPacket,
  RpcResponsePacket,
} from '@app/contracts';

const json = JSONCodec<unknown>();

export interface RpcCallOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/**
 * Request/reply over NATS in the NestJS transport's envelope, for callers that are not Nest
 * microservices (the gateway, the agent, tests). Every call has a timeout; an error reply
 * becomes a DomainError with the remote code.
 */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly defaultTimeoutMs = DEFAULT_RPC_TIMEOUT_MS,
  ) {}

  async request<TResponse, TRequest = unknown>(
    pattern: string,
    data: TRequest,
    options: RpcCallOptions = {},
  ): Promise<TResponse> {
    const packet: RpcRequestPacket<TRequest> = { pattern, data, id: randomUUID() };
    let hdrs: MsgHdrs | undefined;
    if (options.headers) {
      hdrs = natsHeaders();
      for (const [k, v] of Object.entries(options.headers)) hdrs.set(k, v);
    }
    let reply;
    try {
      reply = await this.nc.request(pattern, json.encode(packet), {
        timeout: options.timeoutMs ?? this.defaultTimeoutMs,
        headers: hdrs,
      });
    } catch (error) {
      throw toTransportError(pattern, error);
    }
    const decoded = json.decode(reply.data) as RpcResponsePacket<TResponse>;
    if (decoded.err !== undefined && decoded.err !== null) throw DomainError.fromPayload(decoded.err);
    return decoded.response as TResponse;
  }
}

function toTransportError(pattern: string, error: unknown): DomainError {
  if (error instanceof NatsError) {
    if (error.code === ErrorCode.Timeout)
      return new DomainError(ErrorCodes.TIMEOUT, `${pattern}: no reply in time`);
    if (error.code === ErrorCode.NoResponders)
      return new DomainError(ErrorCodes.UNAVAILABLE, `${pattern}: no service is listening`);
    if (error.code === ErrorCode.ConnectionClosed || error.code === ErrorCode.Disconnect)
      return new DomainError(ErrorCodes.UNAVAILABLE, `${pattern}: not connected to NATS`);
  }
  return new DomainError(
    ErrorCodes.UNAVAILABLE,
    `${pattern}: ${error instanceof Error ? error.message : String(error)}`,
  );
}
