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
    const response = await fetch(`/v1/accounts/${encodeURIComponent(session.accountId)}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}), credentials: 'omit', cache: 'no-store' });
    const text = await response.text();
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
    if (!response.ok) throw new ApiError(response.status, json?.code ?? 'error', json?.detail ?? `HTTP ${response.status}`, json?.errors ?? []);
    return { data: json as T, etag: response.headers.get('ETag') };
  };
}

export type Api = ReturnType<typeof createClient>;
