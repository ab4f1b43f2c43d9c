import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, ValidateBy } from 'class-validator';
import { CommonConfig } from '@app/config';
import { parseCidrList } from './delivery/destination-policy';

/** A comma-separated list of CIDR networks; the message says which entry is wrong. */
function IsCidrList(): PropertyDecorator {
  const problem = (value: unknown) => {
    try {
      parseCidrList(String(value));
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
  return ValidateBy({
    name: 'isCidrList',
    validator: {
      validate: (value) => problem(value) === undefined,
      defaultMessage: (args) => problem(args?.value) ?? 'must be a list of CIDR networks',
    },
  });
}

/** Environment variables read by the alerting service. */
export class AlertingConfig extends CommonConfig {
  /** How often pending alerts are checked for their deadline and due deliveries are sent. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60_000)
  ALERTING_TICK_MS: number = 1000;

  /** Attempts per notification before it is marked failed (the bound on retries). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  ALERT_DELIVERY_MAX_ATTEMPTS: number = 8;

  /** First retry delay; each further retry doubles it, up to ALERT_DELIVERY_BACKOFF_MAX_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  ALERT_DELIVERY_BACKOFF_MS: number = 2000;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  ALERT_DELIVERY_BACKOFF_MAX_MS: number = 600_000;

  /** How long one webhook POST may take. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  ALERT_DELIVERY_TIMEOUT_MS: number = 5000;

  /**
   * Networks webhooks may reach although they are private, loopback or reserved (blocked by
   * default against SSRF), comma-separated CIDRs: e.g. `10.20.0.0/16` for an internal receiver.
   */
  @IsString()
  @IsCidrList()
  ALERT_WEBHOOK_ALLOWED_CIDRS: string = '';

  /** Prometheus `/metrics` and `/health` port of this service; 0 disables it. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT: number = 9464;
}
