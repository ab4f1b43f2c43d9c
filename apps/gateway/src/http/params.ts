import { Injectable, Param, PipeTransform } from '@nestjs/common';
import { ENVIRONMENT_NAME_PATTERN, ValidationFailedError } from '@app/contracts';

/** `:env` must be a valid environment name (it becomes a NATS subject token). */
@Injectable()
export class EnvironmentNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!ENVIRONMENT_NAME_PATTERN.test(value)) {
      throw new ValidationFailedError([
        { field: 'env', reason: 'environment must be lowercase letters, digits and dashes (max 63)' },
      ]);
    }
    return value;
  }
}

/** `@EnvironmentParam() env: string` for routes under `/environments/:env`. */
export const EnvironmentParam = () => Param('env', new EnvironmentNamePipe());
