/** The one fetch wrapper: adds the token, turns problem details into an ApiError with its fields. */
import type { Session } from './session.ts';

export interface FieldError {
  field: string;
  message: string;
  line?: number | null;
  column?: number | null;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly errors: FieldError[]) {
    super(message);
  }
}

export interface Answer<T> {
  data: T;
  etag: string | null;
}

export function createClient(session: Session, onUnauthenticated: () => void) {
  return async function api<T = any>(method: string, path: string, options: { body?: unknown; ifMatch?: string | null } = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${session.token}` };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.ifMatch) headers['If-Match'] = options.ifMatch;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`/v1/accounts/${encodeURIComponent(session.accountId)}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}), credentials: 'omit', cache: 'no-store' });
      text = await response.text();
    } catch {
      throw new ApiError(0, 'network_error', 'The API cannot be reached (a network failure): check the connection, then try again.', []);
    }
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.status === 401) {
      onUnauthenticated();
      throw new ApiError(401, 'unauthenticated', 'session expired', []);
    }
    // Problem details have a detail; anything else (a proxy's or load balancer's HTML page) is never shown.
    if (!response.ok) {
      if (typeof json?.detail === 'string') throw new ApiError(response.status, typeof json.code === 'string' ? json.code : 'error', json.detail, Array.isArray(json.errors) ? json.errors : []);
      throw new ApiError(response.status, 'no_details', `The API answered HTTP ${response.status} without an explanation${response.status >= 500 ? ': try again in a moment' : ''}.`, []);
    }
    if (text && json === undefined) throw new ApiError(response.status, 'not_json', `The API's answer (HTTP ${response.status}, ${response.headers.get('Content-Type')?.split(';')[0] ?? 'no type'}) is not JSON: try again in a moment.`, []);
    return { data: json as T, etag: response.headers.get('ETag') };
  };
}

export type Api = ReturnType<typeof createClient>;
