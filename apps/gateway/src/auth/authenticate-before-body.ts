import { NextFunction, Request, Response } from 'express';
import { toHttpError } from '../http/domain-error.filter';
import { ApiKeyAuthenticator, AuthenticatableRequest } from './api-key-authenticator';

/** Methods whose requests carry a body worth not reading from a stranger. */
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Agents' own routes: enrollment carries its token in a header, the rest are signed over the body. */
const AGENT_INTAKE = '/api/v1/intake';

/**
 * Authenticates API requests with a body before the body is read: a caller without a valid key is
 * answered (401/403/429) from the headers alone and the connection is closed, so up to API_BODY_LIMIT_KB
 * per request is neither received nor parsed for it. Express middleware ahead of the body parser; the
 * route's ApiKeyGuard then finds `request.auth` set and does not look the key up again.
 */
export function authenticateBeforeBody(authenticator: ApiKeyAuthenticator) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (
      !WITH_BODY.has(request.method) ||
      !request.path.startsWith('/api/') ||
      request.path.startsWith(AGENT_INTAKE)
    )
      return next();
    const authenticatable = request as unknown as AuthenticatableRequest;
    authenticator.authenticate(authenticatable, response).then(
      (auth) => {
        authenticatable.auth = auth;
        next();
      },
      (error: unknown) => {
        const body = toHttpError(error);
        // The unread body stays unread: close the connection rather than drain it for keep-alive.
        response.status(body.statusCode).set('Connection', 'close').json(body);
      },
    );
  };
}
