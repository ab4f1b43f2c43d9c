import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { DomainError, ErrorCode, ErrorCodes, FieldError, HTTP_STATUS_BY_CODE } from '@app/contracts';
import { snakeCase } from '../live/snake-case';
import { RequestFieldsError } from './validation.pipe';

/** Every HTTP error body: the same shape whatever failed. */
export interface HttpErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  errors?: FieldError[];
}

/** Nest's own exceptions (unknown route, unparsable JSON, payload too large) get the closest code. */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCodes.VALIDATION_FAILED,
  [HttpStatus.UNAUTHORIZED]: ErrorCodes.UNAUTHENTICATED,
  [HttpStatus.FORBIDDEN]: ErrorCodes.FORBIDDEN,
  [HttpStatus.NOT_FOUND]: ErrorCodes.NOT_FOUND,
  [HttpStatus.CONFLICT]: ErrorCodes.CONFLICT,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCodes.VALIDATION_FAILED,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ErrorCodes.VALIDATION_FAILED,
  [HttpStatus.TOO_MANY_REQUESTS]: ErrorCodes.RATE_LIMITED,
  [HttpStatus.SERVICE_UNAVAILABLE]: ErrorCodes.UNAVAILABLE,
  [HttpStatus.GATEWAY_TIMEOUT]: ErrorCodes.TIMEOUT,
};

/**
 * A field as the HTTP API spells it: services validate their camelCase RPC payloads (`expiresAt`,
 * `stepSeconds`), and a client must never see those names. `rule.offlineSeconds` → `rule.offline_seconds`;
 * the reason's mention of the name is renamed with it.
 */
export function toApiFieldError(error: FieldError): FieldError {
  const field = error.field.replace(/[A-Za-z0-9]+/g, (segment) => snakeCase(segment));
  if (field === error.field) return error;
  let reason = error.reason;
  error.field.split(/[.[\]]/).forEach((segment) => {
    if (segment && /[A-Z]/.test(segment)) reason = reason.split(segment).join(snakeCase(segment));
  });
  return { field, reason };
}

/** Maps any thrown value to a status and an `HttpErrorBody`. Pure, so it is testable on its own. */
export function toHttpError(exception: unknown): HttpErrorBody {
  if (exception instanceof DomainError) {
    const errors =
      exception instanceof RequestFieldsError ? exception.errors : exception.errors?.map(toApiFieldError);
    return {
      statusCode: HTTP_STATUS_BY_CODE[exception.code] ?? HttpStatus.INTERNAL_SERVER_ERROR,
      code: exception.code,
      message:
        errors?.length && exception.code === ErrorCodes.VALIDATION_FAILED
          ? errors.map((e) => `${e.field}: ${e.reason}`).join('; ')
          : exception.message,
      ...(errors?.length ? { errors } : {}),
    };
  }
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    return {
      statusCode,
      code:
        CODE_BY_STATUS[statusCode] ??
        (statusCode >= 500 ? ErrorCodes.INTERNAL : ErrorCodes.VALIDATION_FAILED),
      message: exception.message,
    };
  }
  // Express's body parser (http-errors): 413 entity.too.large, 400 entity.parse.failed, 415 … with `expose`.
  const parserError = exception as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (
    parserError &&
    typeof parserError.status === 'number' &&
    parserError.status >= 400 &&
    parserError.status < 500 &&
    parserError.expose === true
  ) {
    const statusCode = parserError.status;
    return {
      statusCode,
      code: CODE_BY_STATUS[statusCode] ?? ErrorCodes.VALIDATION_FAILED,
      message:
        statusCode === HttpStatus.PAYLOAD_TOO_LARGE
          ? 'request body too large'
          : String(parserError.message ?? 'bad request body'),
    };
  }
  return {
    statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
    code: ErrorCodes.INTERNAL,
    message: 'internal error',
  };
}

/**
 * The gateway's single HTTP error mapping: DomainError codes → statuses via
 * HTTP_STATUS_BY_CODE (RPC errors arrive as DomainErrors with the remote code), body
 * `{ statusCode, code, message, errors? }`. Unexpected errors are logged and sent as a bare 500.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const body = toHttpError(exception);
    if (body.statusCode >= 500 && !(exception instanceof DomainError)) {
      this.logger.error({ err: exception }, 'unhandled error in HTTP handler');
    }
    const response = host.switchToHttp().getResponse<{
      headersSent: boolean;
      status(code: number): { json(body: unknown): void };
    }>();
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }
}
