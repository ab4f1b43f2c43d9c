import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import {
  DependencyUnavailableError,
  DomainError,
  ErrorCodes,
  TokenRevokedError,
  ValidationFailedError,
} from '@app/contracts';
import { toHttpError } from './domain-error.filter';

describe(toHttpError.name, () => {
  it('gives a DomainError the status of its code and keeps the field errors', () => {
    const error = new ValidationFailedError([{ field: 'max_uses', reason: 'must not be less than 1' }]);
    expect(toHttpError(error)).toEqual({
      statusCode: 400,
      code: ErrorCodes.VALIDATION_FAILED,
      message: 'max_uses: must not be less than 1',
      errors: [{ field: 'max_uses', reason: 'must not be less than 1' }],
    });
    expect(toHttpError(new TokenRevokedError())).toMatchObject({
      statusCode: 401,
      code: ErrorCodes.TOKEN_REVOKED,
    });
  });

  it('names a service’s camelCase field as the API spells it, in the field, the reason and the message', () => {
    const overTheWire = DomainError.fromPayload(
      new ValidationFailedError([
        { field: 'stepSeconds', reason: 'stepSeconds must not be less than 1' },
      ]).toPayload(),
    );
    expect(toHttpError(overTheWire)).toEqual({
      statusCode: 400,
      code: ErrorCodes.VALIDATION_FAILED,
      message: 'step_seconds: step_seconds must not be less than 1',
      errors: [{ field: 'step_seconds', reason: 'step_seconds must not be less than 1' }],
    });
  });

  it('maps an RPC failure to the gateway status a client can act on', () => {
    expect(
      toHttpError(new DomainError(ErrorCodes.UNAVAILABLE, 'tokens.verify: no service is listening')),
    ).toMatchObject({ statusCode: 503, code: ErrorCodes.UNAVAILABLE });
    expect(toHttpError(new DomainError(ErrorCodes.TIMEOUT, 'tokens.list: no reply in time'))).toMatchObject({
      statusCode: 504,
      code: ErrorCodes.TIMEOUT,
    });
  });

  it('answers 503 naming the database when a service reports its database unavailable over RPC', () => {
    const overTheWire = DomainError.fromPayload(new DependencyUnavailableError('database').toPayload());
    expect(toHttpError(overTheWire)).toEqual({
      statusCode: 503,
      code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
      message: 'database unavailable',
    });
  });

  it("gives Nest's own exceptions the closest code", () => {
    expect(toHttpError(new NotFoundException('Cannot GET /nope'))).toMatchObject({
      statusCode: 404,
      code: 'NOT_FOUND',
    });
    expect(toHttpError(new BadRequestException('Unexpected token'))).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(toHttpError(new PayloadTooLargeException())).toMatchObject({
      statusCode: 413,
      code: 'VALIDATION_FAILED',
    });
  });

  it('hides the message of an unexpected error behind a bare 500', () => {
    expect(toHttpError(new Error('connection string postgres://secret@db'))).toEqual({
      statusCode: 500,
      code: ErrorCodes.INTERNAL,
      message: 'internal error',
    });
  });
});
