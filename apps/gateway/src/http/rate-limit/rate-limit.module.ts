import { createHash } from 'node:crypto';
import { DynamicModule, ExecutionContext, Global, Inject, Injectable, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  getStorageToken,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  ThrottlerModule,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { NatsConnection } from 'nats';
import { SystemClock } from '@app/clock';
import { RateLimitedError } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';
import { GatewayConfig } from '../../config';
import { NatsKvThrottlerStorage } from './nats-kv-throttler.storage';

const MINUTE_MS = 60_000;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

type HttpRequest = { ip?: string; path?: string; url?: string; headers: Record<string, unknown> };
export type HttpResponse = { header(name: string, value: string | number): unknown };

/** The client address as the limits see it (behind a proxy: set Express's trust proxy so it is the client's). */
export function clientAddress(request: HttpRequest): string {
  return request.ip ?? 'unknown';
}

function bearerKey(request: HttpRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
}

/** A 429 with `Retry-After` (seconds), in the API's error shape. */
export function rateLimited(
  response: HttpResponse,
  retryAfterSeconds: number,
  what: string,
): RateLimitedError {
  response.header('Retry-After', Math.max(1, retryAfterSeconds));
  return new RateLimitedError(what);
}

/**
 * @nestjs/throttler's guard for the API: per client address and per API key, counted in NATS KV so
 * every gateway instance shares the counts. Agents' intake (signed requests; enrollment has its own
 * per-token limit), health checks, the dashboard's files and downloads are not limited here.
 */
@Injectable()
export class ApiRateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const path = context.switchToHttp().getRequest<HttpRequest>().path ?? '';
    return !path.startsWith('/api/') || path.startsWith('/api/v1/intake');
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const response = context.switchToHttp().getResponse<HttpResponse>();
    const per = detail.tracker.startsWith('key:') ? 'this API key' : 'this address';
    throw rateLimited(response, detail.timeToBlockExpire, `${detail.limit} requests per minute for ${per}`);
  }
}

/**
 * Failed authentications per client address: after RATE_LIMIT_FAILED_AUTH_PER_MINUTE of them the
 * address gets 429 for a minute before any key is looked up, so guessing keys costs no database work.
 */
@Injectable()
export class FailedAuthLimiter {
  constructor(
    @Inject(getStorageToken()) private readonly storage: NatsKvThrottlerStorage,
    @Inject(GatewayConfig) private readonly config: GatewayConfig,
  ) {}

  /** Seconds the address must wait, 0 when it may try. */
  blockedFor(request: HttpRequest): Promise<number> {
    return this.storage.blockedFor(clientAddress(request), 'failed_auth');
  }

  async record(request: HttpRequest): Promise<void> {
    await this.storage.increment(
      clientAddress(request),
      MINUTE_MS,
      // The Nth failure blocks: the (N+1)th attempt is not looked up.
      this.config.RATE_LIMIT_FAILED_AUTH_PER_MINUTE - 1,
      MINUTE_MS,
      'failed_auth',
    );
  }
}

function throttlerOptions(config: GatewayConfig, storage: ThrottlerStorage): ThrottlerModuleOptions {
  return {
    storage,
    // One count per tracker across all routes (the default would count per route).
    generateKey: (_context, tracker, name) => `${name}:${tracker}`,
    throttlers: [
      {
        name: 'address',
        ttl: MINUTE_MS,
        limit: config.RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
        getTracker: (request) => `address:${clientAddress(request as HttpRequest)}`,
        setHeaders: false,
      },
      {
        name: 'key',
        ttl: MINUTE_MS,
        limit: config.RATE_LIMIT_PER_KEY_PER_MINUTE,
        // Counted by the key's hash: a key that turns out to be bad is also counted by FailedAuthLimiter.
        getTracker: (request) =>
          `key:${createHash('sha256')
            .update(bearerKey(request as HttpRequest) ?? '')
            .digest('hex')}`,
        skipIf: (context) => !bearerKey(context.switchToHttp().getRequest<HttpRequest>()),
      },
    ],
  };
}

/** Rate limits of the HTTP API (docs/configuration.md, "Gateway"). */
@Global()
@Module({})
export class RateLimitModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRootAsync({
          useFactory: (nc: NatsConnection) =>
            NatsKvThrottlerStorage.open(nc, new SystemClock()).then((storage) =>
              throttlerOptions(config, storage),
            ),
          inject: [NATS_CONNECTION],
        }),
      ],
      providers: [
        { provide: GatewayConfig, useValue: config },
        FailedAuthLimiter,
        { provide: APP_GUARD, useClass: ApiRateLimitGuard },
      ],
      exports: [FailedAuthLimiter],
    };
  }
}
