import {
  ArgumentMetadata,
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  Injectable,
  Logger,
  PipeTransform,
} from '@nestjs/common';
import { NatsOptions, Transport } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { DomainError, ErrorCodes, RpcErrorPayload, validateDto } from '@app/contracts';
import { natsConnectionOptions, NatsConnectionSettings } from './nats-connection';

/**
 * NestJS NATS transport options. `queue` puts every instance of a service in one queue group,
 * so several instances share the requests.
 */
export function natsMicroserviceOptions(settings: NatsConnectionSettings, queue: string): NatsOptions {
  const {
    servers,
    name,
    token,
    authenticator,
    tls,
    inboxPrefix,
    maxReconnectAttempts,
    reconnectTimeWait,
    reconnectJitter,
    waitOnFirstConnect,
    ignoreAuthErrorAbort,
  } = natsConnectionOptions(settings);
  return {
    transport: Transport.NATS,
    options: {
      servers,
      name,
      token,
      authenticator,
      tls,
      inboxPrefix,
      maxReconnectAttempts,
      reconnectTimeWait,
      reconnectJitter,
      waitOnFirstConnect,
      ignoreAuthErrorAbort,
      queue,
    },
  };
}

/** Validates `@Payload()` against its DTO class; a bad payload becomes a VALIDATION_FAILED reply. */
@Injectable()
export class RpcValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const type = metadata.metatype;
    if (metadata.type !== 'body' || !type || [Object, String, Number, Boolean, Array].includes(type as never))
      return value;
    return validateDto(type as new () => object, value);
  }
}

/** Every RPC failure leaves as `{ code, message, errors? }`; unexpected ones are logged and sent as INTERNAL. */
@Catch()
export class RpcErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    if (exception instanceof DomainError) return throwError(() => exception.toPayload());
    const pattern = host.switchToRpc().getContext()?.getSubject?.() ?? 'rpc';
    this.logger.error({ err: exception, pattern }, 'unhandled error in RPC handler');
    const payload: RpcErrorPayload = { code: ErrorCodes.INTERNAL, message: 'internal error' };
    return throwError(() => payload);
  }
}
