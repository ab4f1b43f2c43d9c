import { Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { CommonConfig } from '@app/config';
import { parseToken } from '@app/contracts';

@ValidatorConstraint({ name: 'isApiKey' })
class IsWellFormedApiKey implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseToken(value)?.kind === 'api_key';
  }
  defaultMessage(): string {
    return 'must be a well-formed API key (rca_ak_ + 22 base62 characters + checksum); generate one with `npm run admin -- key generate`';
  }
}

/** Environment variables read by the tokens service. */
export class TokensConfig extends CommonConfig {
  /** How long a rotated token keeps working when the request does not say (seconds). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  TOKEN_ROTATION_GRACE_SECONDS: number = 86400;

  /**
   * The first API key of the `default` organisation, created on first start with an empty
   * database. Unset: a key is generated and printed once.
   */
  @IsOptional()
  @Validate(IsWellFormedApiKey)
  BOOTSTRAP_API_KEY?: string = undefined;

  /**
   * The bus key directory (`npm start` makes one under DATA_DIR; `npm run admin -- nats-auth init` for
   * your own NATS): the agents' signing key, the operator signing key and the system-account creds.
   * Unset only on an unsecured development bus.
   */
  @IsOptional()
  @IsString()
  NATS_AUTH_DIR?: string = undefined;

  /** Lifetime of an agent's NATS user JWT; agents renew at half of it (seconds). */
  @Type(() => Number)
  @IsInt()
  @Min(30)
  @Max(7 * 24 * 3600)
  AGENT_JWT_TTL_SECONDS: number = 12 * 3600;
}
