import { ArgumentMetadata, Body, Injectable, PipeTransform, Query } from '@nestjs/common';
import { FieldError, ValidationFailedError, validateDto } from '@app/contracts';

/**
 * A field error about the request exactly as the client sent it: its field names are the client's own
 * (an unknown `maxUses` stays `maxUses`), unlike a service's refusal, whose camelCase names are renamed.
 */
export class RequestFieldsError extends ValidationFailedError {
  constructor(errors: FieldError[]) {
    super(errors);
  }
}

/**
 * Turns an HTTP body or query into its DTO class (class-validator), or fails with
 * VALIDATION_FAILED naming each field (→ 400 through DomainErrorFilter). Unknown fields are
 * errors, so a misspelt `expires_at` is reported instead of ignored.
 */
@Injectable()
export class HttpValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const type = metadata.metatype;
    if (!type || [Object, String, Number, Boolean, Array].includes(type as never)) return value;
    // An empty or missing body/query is an empty object: the DTO then names the required fields.
    const input = value === undefined || value === null || value === '' ? {} : value;
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw new RequestFieldsError([{ field: `(${metadata.type})`, reason: 'must be a JSON object' }]);
    }
    try {
      return validateDto(type as new () => object, input);
    } catch (error) {
      if (error instanceof ValidationFailedError) throw new RequestFieldsError(error.errors ?? []);
      throw error;
    }
  }
}

/** `@ValidBody() body: SomeBody` — the body validated into its DTO class. */
export const ValidBody = () => Body(new HttpValidationPipe());
/** `@ValidQuery() query: SomeQuery` — the query string validated into its DTO class. */
export const ValidQuery = () => Query(new HttpValidationPipe());
