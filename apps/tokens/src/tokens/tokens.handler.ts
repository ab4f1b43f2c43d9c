import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  IssuedToken,
  IssueTokenRequest,
  ListTokensRequest,
  RevokeTokenRequest,
  RotatedToken,
  RotateTokenRequest,
  Subjects,
  TokenMetadata,
  VerifiedToken,
  VerifyManyTokensReply,
  VerifyManyTokensRequest,
  VerifyTokenRequest,
} from '@app/contracts';
import { TokensService } from './tokens.service';

/** `tokens.*` request/reply: payloads are validated by the global RpcValidationPipe. */
@Controller()
export class TokensHandler {
  constructor(private readonly tokens: TokensService) {}

  @MessagePattern(Subjects.tokens.issue)
  issue(@Payload() request: IssueTokenRequest): Promise<IssuedToken> {
    return this.tokens.issue(request);
  }

  @MessagePattern(Subjects.tokens.verify)
  verify(@Payload() request: VerifyTokenRequest): Promise<VerifiedToken> {
    return this.tokens.verify(request);
  }

  @MessagePattern(Subjects.tokens.verifyMany)
  verifyMany(@Payload() request: VerifyManyTokensRequest): Promise<VerifyManyTokensReply> {
    return this.tokens.verifyMany(request);
  }

  @MessagePattern(Subjects.tokens.revoke)
  revoke(@Payload() request: RevokeTokenRequest): Promise<TokenMetadata> {
    return this.tokens.revoke(request);
  }

  @MessagePattern(Subjects.tokens.rotate)
  rotate(@Payload() request: RotateTokenRequest): Promise<RotatedToken> {
    return this.tokens.rotate(request);
  }

  @MessagePattern(Subjects.tokens.list)
  list(@Payload() request: ListTokensRequest): Promise<TokenMetadata[]> {
    return this.tokens.list(request);
  }
}
