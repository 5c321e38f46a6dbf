/** A small client for the management API in tests: real HTTP, JSON in and out, nothing hidden. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(base: string, method: string, path: string, options: { token?: string | undefined; body?: unknown; rawBody?: string | Buffer; contentType?: string; headers?: Record<string, string> } = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}) });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A problem document without its request id, to compare two refusals byte for byte. */
export const withoutRequestId = (answer: ApiAnswer): string => {
  const { requestId: _id, ...rest } = (answer.json ?? {}) as Record<string, unknown>;
  return `${answer.status} ${answer.headers.get('content-type')} ${JSON.stringify(rest)}`;
};
