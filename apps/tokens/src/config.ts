import { Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
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
}
