import { randomUUID } from 'node:crypto';
import { ErrorCode, MsgHdrs, NatsConnection, NatsError, headers as natsHeaders, JSONCodec } from 'nats';
import {
  DEFAULT_RPC_TIMEOUT_MS,
  DomainError,
  ErrorCodes,
  RpcRequestPacket,
  RpcResponsePacket,
} from '@app/contracts';
import { ConnectionState } from './connection-state';

const json = JSONCodec<unknown>();
/** How long a request keeps retrying "no responders" (bounded by its own timeout too). */
const NO_RESPONDERS_RETRY_WINDOW_MS = 2000;
const NO_RESPONDERS_BACKOFF_MS = 50;
const NO_RESPONDERS_BACKOFF_MAX_MS = 400;

export interface RpcCallOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Fail at once on "no responders" instead of retrying briefly (for optional lookups). */
  failFast?: boolean;
}

/**
 * Request/reply over NATS in the NestJS transport's envelope, for callers that are not Nest
 * microservices (the gateway, the agent, tests). Every call has a timeout; an error reply
 * becomes a DomainError with the remote code.
 */
export class RpcClient {
  private readonly link: ConnectionState;

  constructor(
    private readonly nc: NatsConnection,
    private readonly defaultTimeoutMs = DEFAULT_RPC_TIMEOUT_MS,
  ) {
    this.link = ConnectionState.of(nc);
  }

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
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const startedAt = Date.now();
    // Sent while reconnecting, the request would be dropped and only time out: wait for the link.
    if (!(await this.link.waitUntilConnected(timeoutMs)))
      throw new DomainError(ErrorCodes.UNAVAILABLE, `${pattern}: not connected to NATS`);
    let reply;
    for (let attempt = 0; ; attempt++) {
      const elapsed = Date.now() - startedAt;
      try {
        reply = await this.nc.request(pattern, json.encode(packet), {
          timeout: Math.max(1, timeoutMs - elapsed),
          headers: hdrs,
        });
        break;
      } catch (error) {
        // "No responders" means nobody received it, so sending again is safe. Right after a NATS
        // restart the services are still resubscribing: retry briefly rather than fail the caller.
        const retryIn = Math.min(NO_RESPONDERS_BACKOFF_MS * 2 ** attempt, NO_RESPONDERS_BACKOFF_MAX_MS);
        const retryable =
          !options.failFast &&
          error instanceof NatsError &&
          error.code === ErrorCode.NoResponders &&
          Date.now() + retryIn - startedAt < Math.min(timeoutMs, NO_RESPONDERS_RETRY_WINDOW_MS);
        if (!retryable) throw toTransportError(pattern, error);
        await new Promise((resolve) => setTimeout(resolve, retryIn));
      }
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
