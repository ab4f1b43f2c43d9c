import { plainToInstance, ClassConstructor } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { FieldError, ValidationFailedError } from './errors';

/** Flattens class-validator's tree into `{ field: 'a.b[0].c', reason }` pairs. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = parent
      ? /^\d+$/.test(error.property)
        ? `${parent}[${error.property}]`
        : `${parent}.${error.property}`
      : error.property;
    // A missing field is "required", not the list of every rule its absent value breaks (range, type, …).
    if (error.value === undefined && error.constraints && Object.keys(error.constraints).length > 0) {
      out.push({ field, reason: 'required' });
      continue;
    }
    for (const reason of Object.values(error.constraints ?? {})) out.push({ field, reason });
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

/**
 * Turns an untrusted plain value into a validated DTO instance or throws ValidationFailedError naming each field.
 * Unknown properties are rejected so a typo in a field name is an error, not silently ignored.
 */
export function validateDto<T extends object>(
  cls: ClassConstructor<T>,
  value: unknown,
  options: { allowUnknown?: boolean } = {},
): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationFailedError([{ field: '(body)', reason: 'must be a JSON object' }]);
  }
  const instance = plainToInstance(cls, value, { enableImplicitConversion: false });
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: !options.allowUnknown,
    forbidUnknownValues: true,
  });
  if (errors.length) throw new ValidationFailedError(flattenValidationErrors(errors));
  return instance;
}
