/** Error codes shared by every transport. HTTP maps them to statuses in one place (`HTTP_STATUS_BY_CODE`). */
export const ErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** A body that is not `application/json`: said as such rather than as every field missing. */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  TOKEN_MALFORMED: 'TOKEN_MALFORMED',
  TOKEN_UNKNOWN: 'TOKEN_UNKNOWN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_REVOKED: 'TOKEN_REVOKED',
  TOKEN_EXHAUSTED: 'TOKEN_EXHAUSTED',
  TOKEN_WRONG_KIND: 'TOKEN_WRONG_KIND',
  /** The agent's identity was revoked: it must not retry (agents exit 78). */
  AGENT_REVOKED: 'AGENT_REVOKED',
  /** A signed agent request whose signature, key or time does not check out. */
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  UNKNOWN_AGENT_TYPE: 'UNKNOWN_AGENT_TYPE',
  INVALID_CONFIG: 'INVALID_CONFIG',
  TIMEOUT: 'TIMEOUT',
  UNAVAILABLE: 'UNAVAILABLE',
  /** A service answered, but something it depends on (its database) cannot serve: the message names it. */
  DEPENDENCY_UNAVAILABLE: 'DEPENDENCY_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  TOKEN_MALFORMED: 401,
  TOKEN_UNKNOWN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  TOKEN_EXHAUSTED: 401,
  TOKEN_WRONG_KIND: 401,
  AGENT_REVOKED: 401,
  SIGNATURE_INVALID: 401,
  UNKNOWN_AGENT_TYPE: 400,
  INVALID_CONFIG: 400,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
  DEPENDENCY_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** One problem with one input field: `{ field: 'config.namespace', reason: 'must match …' }`. */
export interface FieldError {
  field: string;
  reason: string;
}

/** What an RPC error reply carries (the `err` of the NestJS NATS packet). */
export interface RpcErrorPayload {
  code: ErrorCode;
  message: string;
  errors?: FieldError[];
}

/** A failure with a code. Thrown by services; transports map it, nothing string-matches messages. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = new.target.name;
  }

  toPayload(): RpcErrorPayload {
    return {
      code: this.code,
      message: this.message,
      ...(this.errors?.length ? { errors: this.errors } : {}),
    };
  }

  static fromPayload(payload: unknown): DomainError {
    if (isRpcErrorPayload(payload)) return new DomainError(payload.code, payload.message, payload.errors);
    const message =
      payload && typeof payload === 'object' && 'message' in payload
        ? String(payload.message)
        : 'remote error';
    return new DomainError(ErrorCodes.INTERNAL, message);
  }
}

export class ValidationFailedError extends DomainError {
  constructor(errors: FieldError[]) {
    super(ErrorCodes.VALIDATION_FAILED, errors.map((e) => `${e.field}: ${e.reason}`).join('; '), errors);
  }
}
export class UnsupportedMediaTypeError extends DomainError {
  constructor(contentType: string | undefined) {
    super(
      ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
      `the body must be JSON: send Content-Type: application/json (got ${contentType ? `"${contentType}"` : 'none'})`,
    );
  }
}
/** No credential, or one that is not a well-formed `Authorization: Bearer <key>` header. */
export class UnauthenticatedError extends DomainError {
  constructor(reason: string) {
    super(ErrorCodes.UNAUTHENTICATED, reason);
  }
}
export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(ErrorCodes.NOT_FOUND, `${what} not found`);
  }
}
/** The request clashes with existing state: a taken name, a token already rotated or revoked. */
export class ConflictError extends DomainError {
  constructor(reason: string) {
    super(ErrorCodes.CONFLICT, reason);
  }
}
export class TokenMalformedError extends DomainError {
  constructor(reason = 'token is malformed') {
    super(ErrorCodes.TOKEN_MALFORMED, reason);
  }
}
export class TokenUnknownError extends DomainError {
  constructor() {
    super(ErrorCodes.TOKEN_UNKNOWN, 'token is not known');
  }
}
export class TokenExpiredError extends DomainError {
  constructor() {
    super(ErrorCodes.TOKEN_EXPIRED, 'token has expired');
  }
}
export class TokenRevokedError extends DomainError {
  constructor() {
    super(ErrorCodes.TOKEN_REVOKED, 'token has been revoked');
  }
}
export class TokenExhaustedError extends DomainError {
  constructor() {
    super(ErrorCodes.TOKEN_EXHAUSTED, 'token has reached its usage limit');
  }
}
export class TokenWrongKindError extends DomainError {
  constructor(expected: string, actual: string) {
    super(ErrorCodes.TOKEN_WRONG_KIND, `expected a ${expected} token, got ${actual}`);
  }
}
export class AgentRevokedError extends DomainError {
  constructor(agentId: string) {
    super(ErrorCodes.AGENT_REVOKED, `agent ${agentId} has been revoked`);
  }
}
/** Deliberately vague about which part failed (key, time or signature): it is an authentication failure. */
export class SignatureInvalidError extends DomainError {
  constructor(reason = 'the request signature does not verify') {
    super(ErrorCodes.SIGNATURE_INVALID, reason);
  }
}
export class RateLimitedError extends DomainError {
  constructor(what: string) {
    super(ErrorCodes.RATE_LIMITED, `${what}: too many requests, retry later`);
  }
}
export class UnknownAgentTypeError extends DomainError {
  constructor(type: string, known: string[]) {
    super(ErrorCodes.UNKNOWN_AGENT_TYPE, `unknown agent type "${type}"; known types: ${known.join(', ')}`, [
      { field: 'agent_type', reason: `must be one of: ${known.join(', ')}` },
    ]);
  }
}

/** The service is up but `dependency` (e.g. `database`) is not: "database unavailable". */
export class DependencyUnavailableError extends DomainError {
  constructor(
    readonly dependency: string,
    override readonly cause?: unknown,
  ) {
    super(ErrorCodes.DEPENDENCY_UNAVAILABLE, `${dependency} unavailable`);
  }
}

/**
 * True for a DEPENDENCY_UNAVAILABLE failure, local or received over RPC: the outage is logged once
 * where it is detected (its DatabaseHealth), so loops and callers that meet it again need not log it.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  return error instanceof DomainError && error.code === ErrorCodes.DEPENDENCY_UNAVAILABLE;
}

export function isRpcErrorPayload(value: unknown): value is RpcErrorPayload {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as RpcErrorPayload).code === 'string' &&
    (value as RpcErrorPayload).code in HTTP_STATUS_BY_CODE &&
    typeof (value as RpcErrorPayload).message === 'string'
  );
}
