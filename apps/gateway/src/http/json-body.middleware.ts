import { UnsupportedMediaTypeError } from '@app/contracts';
import { toHttpError } from './domain-error.filter';

/** `application/json`, `application/merge-patch+json`, with or without `; charset=…`. */
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.-]+\+)?json\s*(;|$)/i;
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

interface MinimalRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}
interface MinimalResponse {
  status(code: number): { json(body: unknown): void };
}

/** True when the request carries a body (a length above zero, or a chunked one). */
function hasBody(request: MinimalRequest): boolean {
  const length = request.headers['content-length'];
  if (typeof length === 'string') return Number(length) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

/**
 * The API reads JSON only. A body sent as anything else (curl's default form encoding, text/plain) would
 * reach the DTO empty or as one odd key and come back as every field missing; it is a 415 that says so.
 * Express middleware, so it answers itself in the gateway's error shape.
 */
export function requireJsonBodies(
  request: MinimalRequest,
  response: MinimalResponse,
  next: () => void,
): void {
  if (!METHODS_WITH_BODY.has(request.method) || !hasBody(request)) return next();
  const contentType = request.headers['content-type'];
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (value && JSON_MEDIA_TYPE.test(value)) return next();
  const body = toHttpError(new UnsupportedMediaTypeError(value));
  response.status(body.statusCode).json(body);
}
