import type { FieldError } from './types';

/** What the API said when it refused: the gateway's `{ statusCode, code, message, errors? }` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }

  /** The line a person reads: "UNAUTHENTICATED: unknown API key". */
  get summary(): string {
    return `${this.code}: ${this.message}`;
  }
}

export type QueryValue = string | number | undefined | null;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
}

const KEY_STORAGE = 'agent-connector.api-key';

/** The session's API key: sessionStorage, so closing the tab signs out and other tabs do not share it. */
export const apiKeyStore = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

export function buildQuery(query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (body && typeof body === 'object' && 'code' in body && 'message' in body) {
    const { code, message, errors } = body as { code: string; message: string; errors?: FieldError[] };
    return new ApiError(response.status, String(code), String(message), Array.isArray(errors) ? errors : []);
  }
  return new ApiError(response.status, `HTTP_${response.status}`, response.statusText || 'request failed');
}

/** Same-origin JSON calls with the session's key; every refusal becomes an ApiError. */
export class ApiClient {
  constructor(
    private readonly apiKey: string,
    private readonly onUnauthenticated: (error: ApiError) => void = () => undefined,
  ) {}

  get key(): string {
    return this.apiKey;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${path}${buildQuery(options.query)}`, {
        method,
        signal: options.signal,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${this.apiKey}`,
          ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'NETWORK', 'the gateway could not be reached; is it running?');
    }
    if (!response.ok) {
      const error = await toApiError(response);
      if (response.status === 401) this.onUnauthenticated(error);
      throw error;
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}

/** Lists come as a bare array or a Page; views want the items either way. */
export function itemsOf<T>(value: T[] | { items: T[] } | undefined | null): T[] {
  if (!value) return [];
  return Array.isArray(value) ? value : (value.items ?? []);
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.summary;
  if (error instanceof Error) return error.message;
  return String(error);
}
