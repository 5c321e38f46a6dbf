/**
 * The webhook fields the portal's editor shows, and the merge patch a save sends: only what changed,
 * so the fields the editor does not show (backupUrl, timeoutSeconds, traceparent, signingSecretName...)
 * are never touched, and a delivery rule (filter, retry, rateLimit, auth) only when its controls were
 * changed. No DOM: unit-tested under Node.
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
  /** The delivery rules as the Delivery rules controls write them; undefined: the field is absent. */
  filter: unknown;
  retry: unknown;
  rateLimit: unknown;
  auth: unknown;
}
export const RULES = ['filter', 'retry', 'rateLimit', 'auth'] as const;
export type Rule = (typeof RULES)[number];
const EDITOR_FIELDS = ['name', 'events', 'method', 'url', 'query', 'format', 'headers', 'body', ...RULES] as const;

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
    // As the controls show them: an untouched rule compares equal to what the controls give back.
    ...rulesOfForm(rulesForm(document)).rules,
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

/** JSON with the keys of every map sorted: two values that mean the same compare equal. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) => (item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item)) ?? 'undefined';
export const sameValue = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The JSON merge patch that turns `before` into `after`: only the editor's fields that changed. */
export function editorPatch(before: EditorFields, after: EditorFields): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of EDITOR_FIELDS) {
    if (sameValue(before[key], after[key])) continue;
    const value = after[key];
    // An emptied body, query or headers goes back to its default (no body: the event as JSON; no map);
    // a cleared rule goes (null removes the field: the deployment's default applies).
    const emptyMap = (key === 'query' || key === 'headers') && typeof value === 'object' && value !== null && Object.keys(value).length === 0;
    patch[key] = value === undefined || emptyMap ? null : value;
  }
  return patch;
}

/**
 * The fields the API's Webhook view adds to a webhook's configuration: hookshape's own (its id, checks,
 * health, auto-disable record, a signing secret rotation's overlap). A create refuses them (strict).
 */
export const HOOKSHAPE_FIELDS = ['id', 'validation', 'health', 'disabled', 'previousSigningSecret', 'signingSecretSetAt'] as const;

/** The create body of a webhook's copy: its configuration only (no history, no rotation of its own), disabled. */
export function duplicateOf(webhook: Record<string, unknown>): Record<string, unknown> {
  const config = Object.fromEntries(Object.entries(webhook).filter(([key]) => !(HOOKSHAPE_FIELDS as readonly string[]).includes(key)));
  return { ...config, name: `${String(webhook.name)} (copy)`, enabled: false };
}

// --- Delivery rules -------------------------------------------------------------------------------

export const RETRY_SCHEDULES = ['incremental', 'exponential', 'explicit'] as const;
export const AUTH_TYPES = ['basic', 'bearer', 'header', 'oauth2'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** The fields of each auth type, in the order the editor shows them: `secret` fields take a secret's NAME. */
export const AUTH_FIELDS: Record<AuthType, ReadonlyArray<{ key: string; label: string; secret?: boolean; optional?: boolean; placeholder: string }>> = {
  basic: [
    { key: 'username', label: 'User name', placeholder: 'hookshape' },
    { key: 'passwordSecretName', label: 'Password secret name', secret: true, placeholder: 'CRM_PASSWORD' },
  ],
  bearer: [{ key: 'tokenSecretName', label: 'Token secret name', secret: true, placeholder: 'CRM_TOKEN' }],
  header: [
    { key: 'name', label: 'Header name', placeholder: 'X-Api-Key' },
    { key: 'valueSecretName', label: 'Header value secret name', secret: true, placeholder: 'CRM_API_KEY' },
  ],
  oauth2: [
    { key: 'tokenUrl', label: 'Token URL', placeholder: 'https://auth.crm.example/oauth/token' },
    { key: 'clientId', label: 'Client ID', placeholder: 'hookshape' },
    { key: 'clientSecretName', label: 'Client secret name', secret: true, placeholder: 'CRM_CLIENT_SECRET' },
    { key: 'scope', label: 'Scope (optional)', optional: true, placeholder: 'calls:write' },
    { key: 'audience', label: 'Audience (optional)', optional: true, placeholder: 'https://api.crm.example' },
  ],
};

/** What the Delivery rules controls hold, as text. */
export interface RulesForm {
  /** The filter as JSON ('' : none). */
  filter: string;
  retryAttempts: string;
  /** '' : the default schedule. */
  retrySchedule: string;
  /** The other retry settings as a JSON map ('' : none). */
  retryMore: string;
  perSecond: string;
  maxInFlight: string;
  /** '' : no auth. */
  authType: string;
  /** Every auth field by key (each type's own are read). */
  auth: Record<string, string>;
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** JSON on one line, with a space after each `,` and `:` between values (never inside a text). */
const oneLine = (value: unknown): string =>
  Array.isArray(value) ? `[${value.map(oneLine).join(', ')}]` : isMap(value) ? `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${oneLine(item)}`).join(', ')}}` : (JSON.stringify(value) ?? 'null');
/** Short JSON on one line, longer JSON indented. */
const json = (value: unknown): string => {
  const line = oneLine(value);
  return line.length <= 70 ? line : JSON.stringify(value, null, 2);
};
const text = (value: unknown): string => (value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value));

/** A document's rules in the controls. */
export function rulesForm(document: Record<string, unknown>): RulesForm {
  const retry = isMap(document.retry) ? document.retry : undefined;
  const { attempts, schedule, ...more } = retry ?? {};
  const rateLimit = isMap(document.rateLimit) ? document.rateLimit : {};
  const auth = isMap(document.auth) ? document.auth : undefined;
  return {
    filter: document.filter === undefined || document.filter === null ? '' : json(document.filter),
    retryAttempts: text(attempts),
    retrySchedule: text(schedule),
    retryMore: retry === undefined || Object.keys(more).length === 0 ? '' : json(more),
    perSecond: text(rateLimit.perSecond),
    maxInFlight: text(rateLimit.maxInFlight),
    authType: auth ? text(auth.type) : '',
    auth: auth ? Object.fromEntries(Object.entries(auth).filter(([key]) => key !== 'type').map(([key, value]) => [key, text(value)])) : {},
  };
}

/** A problem the portal finds before sending (JSON that does not parse), named by the field it is about. */
export interface FormProblem {
  field: string;
  message: string;
}

/** A number control: a number when it reads as one, else the text as typed (the API says what is wrong with it). */
const numberOf = (value: string): number | string => (value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value.trim());

/**
 * The rules the controls describe: a rule whose controls are all empty is absent (a save removes it).
 * Values are sent as typed — the API validates them and names the path of each mistake — except JSON
 * that does not parse, which is reported here.
 */
export function rulesOfForm(form: RulesForm): { rules: Record<Rule, unknown>; problems: FormProblem[] } {
  const problems: FormProblem[] = [];
  const parse = (source: string, field: string, example: string): unknown => {
    if (source.trim() === '') return undefined;
    try {
      return JSON.parse(source);
    } catch (error) {
      problems.push({ field, message: `is not JSON (${error instanceof Error ? error.message : String(error)}); write a JSON object, e.g. ${example}` });
      return undefined;
    }
  };
  const filter = parse(form.filter, 'filter', '{"data.call.durationSeconds": {"$gt": 60}}');
  const more = parse(form.retryMore, 'retry', '{"retryOn": [408, 429, "5xx"]}');
  if (more !== undefined && !isMap(more)) problems.push({ field: 'retry', message: 'must be a JSON object of retry settings, e.g. {"baseDelaySeconds": 30, "maxDelaySeconds": 3600}' });
  const retryParts: Record<string, unknown> = { ...(isMap(more) ? more : {}) };
  if (form.retryAttempts.trim() !== '') retryParts.attempts = numberOf(form.retryAttempts);
  if (form.retrySchedule !== '') retryParts.schedule = form.retrySchedule;
  const retry = Object.keys(retryParts).length > 0 ? retryParts : undefined;
  const rateParts: Record<string, unknown> = {};
  if (form.perSecond.trim() !== '') rateParts.perSecond = numberOf(form.perSecond);
  if (form.maxInFlight.trim() !== '') rateParts.maxInFlight = numberOf(form.maxInFlight);
  const rateLimit = Object.keys(rateParts).length > 0 ? rateParts : undefined;
  let auth: Record<string, unknown> | undefined;
  if (form.authType !== '') {
    auth = { type: form.authType };
    const fields = (AUTH_TYPES as readonly string[]).includes(form.authType) ? AUTH_FIELDS[form.authType as AuthType] : [];
    // Each field of the type as typed (an empty required one is left out: the API names it as missing).
    for (const { key } of fields) if ((form.auth[key] ?? '').trim() !== '') auth[key] = form.auth[key]!.trim();
  }
  return { rules: { filter, retry, rateLimit, auth }, problems };
}

/**
 * Which slot a finding goes to: the longest of `keys` that is its field or a prefix of it by path
 * (`retry.attempts` → retry.attempts; `filter.data.call.x.$gtt` → filter; `headers.X-Y` → headers).
 */
export function slotFor(field: string, keys: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const key of keys) {
    const matches = field === key || field.startsWith(`${key}.`) || field.startsWith(`${key}[`);
    if (matches && (best === undefined || key.length > best.length)) best = key;
  }
  return best;
}

