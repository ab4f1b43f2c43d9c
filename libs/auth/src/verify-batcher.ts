import {
  DomainError,
  Subjects,
  VERIFY_MANY_MAX_ITEMS,
  VerifiedToken,
  VerifyManyTokensReply,
  VerifyManyTokensRequest,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { LookupBatcher } from './lookup-batcher';

/** Token verifications that share `tokens.verifyMany` requests (see LookupBatcher). */
export class VerifyBatcher {
  private readonly batcher: LookupBatcher<string, VerifiedToken>;

  constructor(rpc: RpcClient, windowMs?: number) {
    this.batcher = new LookupBatcher(
      async (tokens) => {
        const request: VerifyManyTokensRequest = { items: tokens.map((token) => ({ token })) };
        const { results } = await rpc.request<VerifyManyTokensReply>(Subjects.tokens.verifyMany, request);
        return results.map((r) =>
          r.ok ? r : { ok: false as const, error: DomainError.fromPayload(r.error) },
        );
      },
      VERIFY_MANY_MAX_ITEMS,
      windowMs,
    );
  }

  /** Resolves like `tokens.verify` would for this token. */
  verify(token: string): Promise<VerifiedToken> {
    return this.batcher.lookup(token);
  }
}
