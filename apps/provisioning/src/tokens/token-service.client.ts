import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  IssuedToken,
  IssueTokenRequest,
  RevokeTokenRequest,
  Subjects,
  TokenMetadata,
  VerifiedToken,
  VerifyTokenRequest,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';

const ALREADY_GONE = new Set<string>([
  ErrorCodes.NOT_FOUND,
  ErrorCodes.TOKEN_REVOKED,
  ErrorCodes.TOKEN_UNKNOWN,
]);

/** The token service as provisioning uses it: typed calls over NATS request/reply. */
@Injectable()
export class TokenServiceClient {
  constructor(private readonly rpc: RpcClient) {}

  issue(request: IssueTokenRequest): Promise<IssuedToken> {
    return this.rpc.request<IssuedToken, IssueTokenRequest>(Subjects.tokens.issue, request);
  }

  verify(request: VerifyTokenRequest): Promise<VerifiedToken> {
    return this.rpc.request<VerifiedToken, VerifyTokenRequest>(Subjects.tokens.verify, request);
  }

  revoke(request: RevokeTokenRequest): Promise<TokenMetadata> {
    return this.rpc.request<TokenMetadata, RevokeTokenRequest>(Subjects.tokens.revoke, request);
  }

  /** Revokes a token that should stop working; one already revoked or gone is fine, anything else throws. */
  async revokeIfActive(request: RevokeTokenRequest): Promise<void> {
    try {
      await this.revoke(request);
    } catch (error) {
      if (error instanceof DomainError && ALREADY_GONE.has(error.code)) return;
      throw error;
    }
  }
}
