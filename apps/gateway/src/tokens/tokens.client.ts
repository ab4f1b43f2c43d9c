import { Injectable } from '@nestjs/common';
import {
  CreatedOrganization,
  CreateOrganizationRequest,
  IssuedToken,
  IssueTokenRequest,
  ListTokensRequest,
  Organization,
  RevokeTokenRequest,
  RotatedToken,
  RotateTokenRequest,
  Subjects,
  TokenMetadata,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';

/** The token service as the gateway and the admin CLI see it: typed `tokens.*` requests. */
@Injectable()
export class TokensClient {
  constructor(private readonly rpc: RpcClient) {}

  issue(request: IssueTokenRequest): Promise<IssuedToken> {
    return this.rpc.request(Subjects.tokens.issue, request);
  }

  list(request: ListTokensRequest): Promise<TokenMetadata[]> {
    return this.rpc.request(Subjects.tokens.list, request);
  }

  revoke(request: RevokeTokenRequest): Promise<TokenMetadata> {
    return this.rpc.request(Subjects.tokens.revoke, request);
  }

  rotate(request: RotateTokenRequest): Promise<RotatedToken> {
    return this.rpc.request(Subjects.tokens.rotate, request);
  }

  createOrganization(request: CreateOrganizationRequest): Promise<CreatedOrganization> {
    return this.rpc.request(Subjects.tokens.createOrganization, request);
  }

  listOrganizations(): Promise<Organization[]> {
    return this.rpc.request(Subjects.tokens.listOrganizations, {});
  }
}
