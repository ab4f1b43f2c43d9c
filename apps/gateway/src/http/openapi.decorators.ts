import { applyDecorators, HttpStatus, Type } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiProduces,
  ApiQuery,
  ApiQueryOptions,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';

/**
 * A JSON request body: its schema (a class whose `@ApiProperty`s document what the route validates)
 * and an example, which the compiler checks against that class (and openapi.spec.ts against the route's
 * validation and the generated client).
 */
export function ApiJsonBody<T>(
  type: Type<T>,
  example: NoInfer<T>,
  { description, required = true }: { description?: string; required?: boolean } = {},
): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(type),
    ApiBody({
      description,
      required,
      schema: { $ref: getSchemaPath(type) },
      examples: { example: { summary: 'Example', value: example } },
    }),
  );
}

/** Query parameters validated by a class without OpenAPI metadata (one from libs/contracts). */
export function ApiQueries(parameters: readonly ApiQueryOptions[]): MethodDecorator {
  return applyDecorators(...parameters.map((parameter) => ApiQuery(parameter)));
}

/** A 200 whose body is not JSON: an event stream, a script, a PEM, a YAML index (`text`) or an archive (`binary`). */
export function ApiContentResponse(contentType: string, kind: 'text' | 'binary', description: string) {
  return applyDecorators(
    ApiProduces(contentType),
    ApiResponse({
      status: HttpStatus.OK,
      description,
      schema: kind === 'binary' ? { type: 'string', format: 'binary' } : { type: 'string' },
    }),
  );
}
