import {
  DomainError,
  ErrorCodes,
  Subjects,
  VERIFY_MANY_MAX_ITEMS,
  VerifiedToken,
  VerifyManyTokensReply,
  VerifyManyTokensRequest,
  VerifyOutcome,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';

/**
 * Lookups asked for within this window share one `tokens.verifyMany`. A burst of new credentials
 * reaches ingestion over many socket reads, so the window must outlast a few of them; 5 ms is
 * still small next to the round trip and the token service's query.
 */
export const VERIFY_BATCH_WINDOW_MS = 5;

interface Waiter {
  token: string;
  resolve(value: VerifiedToken): void;
  reject(error: unknown): void;
}

/**
 * Coalesces token lookups: what arrives within VERIFY_BATCH_WINDOW_MS, or the first
 * VERIFY_MANY_MAX_ITEMS of it, goes out as one request answered with one database query, so a
 * flood of unknown credentials costs the token service hundreds of requests, not tens of thousands.
 */
export class VerifyBatcher {
  private waiting: Waiter[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly rpc: RpcClient,
    private readonly windowMs = VERIFY_BATCH_WINDOW_MS,
  ) {}

  /** Resolves like `tokens.verify` would for this token; a transport error fails every waiter of the batch. */
  verify(token: string): Promise<VerifiedToken> {
    return new Promise<VerifiedToken>((resolve, reject) => {
      this.waiting.push({ token, resolve, reject });
      if (this.waiting.length >= VERIFY_MANY_MAX_ITEMS) this.send();
      else this.timer ??= setTimeout(() => this.send(), this.windowMs);
    });
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    const request: VerifyManyTokensRequest = { items: batch.map(({ token }) => ({ token })) };
    this.rpc.request<VerifyManyTokensReply>(Subjects.tokens.verifyMany, request).then(
      ({ results }) => batch.forEach((waiter, i) => settle(waiter, results[i])),
      (error: unknown) => batch.forEach((waiter) => waiter.reject(error)),
    );
  }
}

function settle(waiter: Waiter, outcome: VerifyOutcome | undefined): void {
  if (!outcome)
    waiter.reject(new DomainError(ErrorCodes.INTERNAL, `${Subjects.tokens.verifyMany}: no answer`));
  else if (outcome.ok) waiter.resolve(outcome.value);
  else waiter.reject(DomainError.fromPayload(outcome.error));
}
