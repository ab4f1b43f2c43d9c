import { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { Logger } from 'pino';

/** A plain pino logger (structured JSON to stdout) for code outside Nest's container. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, base: { service } });
}

/** nestjs-pino wiring: Nest's own logs and request logs go through pino as JSON. */
export function structuredLogging(service: string, level = 'info'): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      name: service,
      level,
      base: { service },
      // Health probes and metrics scrapes would drown the useful lines.
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
      redact: [
        'req.headers.authorization',
        'req.headers["rca-credential"]',
        'req.headers["rca-enrollment-token"]',
      ],
    },
  });
}
