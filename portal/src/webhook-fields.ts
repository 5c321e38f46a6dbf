/**
 * The webhook fields the portal's editor shows, and the merge patch a save sends: only what changed,
 * so the fields the editor does not show (filter, retry, auth, rateLimit, backupUrl, timeoutSeconds,
 * traceparent, signingSecretName...) are never touched. No DOM: unit-tested under Node.
 */
/** The fields the editor shows, as it would write them: the rest of the document is never touched. */
export interface EditorFields {
  name: string;
  events: string[];
  method: string;
  url: string;
  query: Record<string, string>;
  format: string;
  headers: Record<string, string>;
  body: string | undefined;
}
const EDITOR_FIELDS = ['name', 'events', 'method', 'url', 'query', 'format', 'headers', 'body'] as const;

export function editorFieldsOf(document: any): EditorFields {
  const map = (value: unknown): Record<string, string> => (value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)])) : {});
  return {
    name: typeof document.name === 'string' ? document.name : '',
    events: Array.isArray(document.events) ? document.events.map(String) : [],
    method: typeof document.method === 'string' ? document.method.toUpperCase() : 'POST',
    url: typeof document.url === 'string' ? document.url : '',
    query: map(document.query),
    format: typeof document.format === 'string' ? document.format.toLowerCase() : 'json',
    headers: map(document.headers),
    body: typeof document.body === 'string' && document.body.trim() !== '' ? document.body : undefined,
  };
}

/** `Name: value` (headers) or `name=value` (query) lines → a map; the first separator splits. */
export function linesToMap(text: string, separator: ':' | '='): Record<string, string> {
  const map: Record<string, string> = {};
  for (const line of text.split('\n').map((item) => item.trim()).filter(Boolean)) {
    const at = line.indexOf(separator);
    if (at < 0) map[line] = '';
    else map[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return map;
}
export const mapToLines = (map: Record<string, string>, separator: string) => Object.entries(map).map(([key, value]) => `${key}${separator}${value}`).join('\n');

/** The JSON merge patch that turns `before` into `after`: only the editor's fields that changed. */
export function editorPatch(before: EditorFields, after: EditorFields): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of EDITOR_FIELDS) {
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    const value = after[key];
    // An emptied body, query or headers goes back to its default (no body: the event as JSON; no map).
    patch[key] = value === undefined || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) ? null : value;
  }
  return patch;
}

