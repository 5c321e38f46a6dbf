/**
 * The checks of a webhook document, shared by the Firestore trigger (validateWebhook) and the CLI
 * (`hookshape validate`). Pure: no cloud clients. It needs no secret values: templates render with a
 * placeholder for each secret they name, so a document can be checked before its secrets exist.
 */
import { Liquid, type Template } from 'liquidjs';
import { EVENT_CATALOGUE, EVENT_ENVELOPE_VARIABLES, sampleEvent, type EventType } from '../events/event-catalogue.ts';
import type { EventMessage } from '../events/event-message.ts';
import { DEFAULT_RETRY_SETTINGS, MAX_RETRY_WINDOW_SECONDS, retryPolicy, retryWindowSeconds } from '../delivery/retry-policy.ts';
import { BODY_ESCAPE } from '../render/body-formats.ts';
import { tokenUrlProblem } from '../send/oauth2-tokens.ts';
import { buildRequest, type DeliveryTarget } from '../render/build-request.ts';
import type { EscapeMode } from '../render/output-escapers.ts';
import { TemplateError, type TemplateEngine } from '../render/template-engine.ts';
import { checkUrlHostLock } from '../render/url-host-lock.ts';
import { editDistance, fieldPath } from '../webhooks/describe-issues.ts';

export { editDistance } from '../webhooks/describe-issues.ts';
import { pathSegments, type EventFilter } from '../webhooks/event-filter.ts';
import { BodyFormat, parseWebhookConfig, WEBHOOK_FIELDS, type WebhookConfig } from '../webhooks/webhook-config.ts';
import { NON_CONFIG_FIELDS } from './config-hash.ts';
import { internalTemplateHost } from './url-template-host.ts';

/** One problem, placed where the person editing the document can find it. */
export interface ValidationIssue {
  /** `url`, `headers.Authorization`, `body`, `events[1]`...; empty for the document as a whole. */
  field: string;
  /** Line and column in the field's template (1-based), when known. */
  line: number | null;
  column: number | null;
  message: string;
  /** The catalogue sample whose rendering failed; null when the template fails on its own. */
  eventType: string | null;
}

export interface ValidationReport {
  ok: boolean;
  /** Why deliveries would be `invalid`: while there are any, the dispatcher skips the webhook. */
  errors: ValidationIssue[];
  /** Likely mistakes that do not stop deliveries (a misspelt field, a variable the event lacks). */
  warnings: ValidationIssue[];
}

/** The `validation` map written into the webhook document. */
export interface StoredValidation extends ValidationReport {
  checkedAt: Date;
  /** webhookConfigHash of the document this result is about. */
  configHash: string;
}

export interface ValidateOptions {
  accountId: string;
  webhookId: string;
  engine: TemplateEngine;
  now?: Date;
  /** Accepts localhost and *.localhost hosts, as the sender does with ALLOW_LOOPBACK_DESTINATIONS (local stack, tests). */
  allowLoopback?: boolean;
}

const KNOWN_FIELDS = new Set<string>([...WEBHOOK_FIELDS, ...NON_CONFIG_FIELDS]);

/** A dummy Standard Webhooks key: a signing secret is checked for its name, never read. */
const PLACEHOLDER_SIGNING_KEY = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const secretPlaceholder = (name: string) => `placeholder-${name}`;
/** For a secret that starts a URL template (a base URL kept in a secret). */
const urlSecretPlaceholder = (name: string) => `https://placeholder-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`;
const LEADING_SECRET = /^\s*\{\{-?\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)/;
/** A secret written as the port, right after the host (`https://api.example.com:{{ secrets.PORT }}/x`). */
const PORT_SECRET = /^[a-z][a-z0-9+.-]*:\/\/[^/?#{]+:\{\{-?\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)/i;
const PORT_PLACEHOLDER = '8443';

const issue = (field: string, message: string, extra: Partial<ValidationIssue> = {}): ValidationIssue => ({ field, line: null, column: null, message, eventType: null, ...extra });

function fromTemplateError(error: TemplateError, eventType: EventType | null): ValidationIssue {
  return {
    field: error.field,
    line: error.line ?? null,
    column: error.column ?? null,
    message: eventType ? `${error.message} (rendering the ${eventType} sample)` : error.message,
    eventType,
  };
}

/** A field hookshape does not read is most often a typo of one it does ("heders"). */
function unknownFieldWarnings(document: Record<string, unknown>): ValidationIssue[] {
  return Object.keys(document)
    .filter((field) => !KNOWN_FIELDS.has(field))
    .map((field) => {
      const guess = WEBHOOK_FIELDS.find((known) => known.toLowerCase() === field.toLowerCase() || editDistance(known.toLowerCase(), field.toLowerCase()) <= 2);
      return issue(field, `${field}: is not a webhook field and is ignored${guess ? ` (did you mean ${guess}?)` : ''}`);
    });
}

interface TemplateField {
  field: string;
  source: string;
  mode: EscapeMode;
}

/** Every template of the document that is a text, with the escaping it renders with. */
function templateFields(document: Record<string, unknown>): TemplateField[] {
  const fields: TemplateField[] = [];
  const format = typeof document.format === 'string' && (BodyFormat as readonly string[]).includes(document.format.toLowerCase()) ? (document.format.toLowerCase() as BodyFormat) : 'json';
  for (const name of ['url', 'backupUrl'] as const) {
    const source = document[name];
    if (typeof source === 'string') fields.push({ field: name, source, mode: 'url' });
  }
  for (const map of ['query', 'headers'] as const) {
    const value = document[map];
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const [name, source] of Object.entries(value)) if (typeof source === 'string') fields.push({ field: `${map}.${name}`, source, mode: 'none' });
  }
  if (typeof document.body === 'string') fields.push({ field: 'body', source: document.body, mode: BODY_ESCAPE[format] });
  return fields;
}

// Only for static analysis (which variables a parsed template reads); rendering uses the engine's.
const analyser = new Liquid();

interface VariableUse {
  field: string;
  segments: Array<string | number | unknown[]>;
  line: number | null;
  column: number | null;
}

function variableUses(field: string, templates: Template[]): VariableUse[] {
  try {
    const analysis = analyser.analyzeSync(templates);
    return Object.values(analysis.globals).flatMap((variables) =>
      variables.map((variable) => ({
        field,
        segments: variable.segments as VariableUse['segments'],
        line: variable.location?.row ?? null,
        column: variable.location?.col ?? null,
      })),
    );
  } catch {
    return []; // analysis is a help for warnings; rendering still checks the template
  }
}

const ENVELOPE_KEYS: Record<string, Set<string>> = { event: new Set(), webhook: new Set() };
for (const variable of EVENT_ENVELOPE_VARIABLES) {
  const [root, key] = variable.path.split('.');
  ENVELOPE_KEYS[root!]?.add(key!);
}

/** Whether `data.<segments>` reads something the event type carries (its sample, or its documentation). */
function isDataVariable(type: EventType, segments: VariableUse['segments']): boolean {
  let value: unknown = EVENT_CATALOGUE[type].sample;
  let documented = 'data';
  let resolvable = true;
  for (const segment of segments) {
    if (typeof segment === 'object') return true; // data[expression]: decided at render time
    documented += typeof segment === 'number' ? '[]' : `.${segment}`;
    if (!resolvable) continue;
    if (Array.isArray(value)) {
      if (typeof segment === 'number' || segment === 'first' || segment === 'last') value = value[0];
      else if (segment === 'size') value = value.length;
      else resolvable = false;
    } else if (typeof value === 'string' && segment === 'size') {
      value = value.length;
    } else if (value && typeof value === 'object' && Object.hasOwn(value, segment)) {
      value = (value as Record<string, unknown>)[String(segment)];
    } else {
      resolvable = false;
    }
  }
  if (resolvable) return true;
  return EVENT_CATALOGUE[type].variables.some((variable) => variable.path === documented || variable.path.startsWith(`${documented}.`) || variable.path.startsWith(`${documented}[]`));
}

const printPath = (segments: VariableUse['segments']) =>
  segments.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : typeof segment === 'object' ? '[…]' : index === 0 ? segment : `.${segment}`)).join('');

/**
 * The known path nearest to one that is not known (edit distance, at most a fifth of its length and at
 * least 3), else the shortest known path it starts (`data.call.duration` → `data.call.durationSeconds`).
 */
export function nearestPath(path: string, known: readonly string[]): string | undefined {
  const closest = known.map((candidate) => ({ candidate, distance: editDistance(candidate, path) })).sort((a, b) => a.distance - b.distance)[0];
  if (closest && closest.distance <= Math.max(3, Math.floor(path.length / 5))) return closest.candidate;
  return known.filter((candidate) => candidate.startsWith(path)).sort((a, b) => a.length - b.length)[0];
}

/**
 * The catalogue variable a template most likely meant by a data path no subscribed event has: array
 * indices are compared as the catalogue writes items (`[]`) and put back in the suggestion.
 */
export function suggestDataVariable(path: string, events: readonly EventType[]): string | undefined {
  const indices = [...path.matchAll(/\[(\d+)\]/g)].map((match) => match[1]!);
  const known = [...new Set(events.flatMap((type) => EVENT_CATALOGUE[type].variables.map((variable) => variable.path)))];
  const guess = nearestPath(path.replace(/\[\d+\]/g, '[]'), known);
  if (guess === undefined) return undefined;
  let index = 0;
  return guess.replace(/\[\]/g, () => `[${indices[index++] ?? 0}]`);
}

const TEMPLATE_ROOTS = ['data', 'event', 'webhook', 'secrets'];

function variableWarnings(uses: VariableUse[], events: readonly EventType[]): ValidationIssue[] {
  const warnings: ValidationIssue[] = [];
  for (const use of uses) {
    const [root, key] = use.segments;
    const at = { line: use.line, column: use.column };
    const where = use.line === null ? '' : ` at line ${use.line}, column ${use.column}`;
    const path = printPath(use.segments);
    if (root === 'secrets') continue;
    if (root === 'data') {
      const lacking = events.filter((type) => !isDataVariable(type, use.segments.slice(1)));
      if (lacking.length > 0) {
        const all = lacking.length === events.length;
        const guess = all ? suggestDataVariable(path, events) : undefined;
        warnings.push(issue(use.field, `${use.field}${where}: ${path} is not a variable of ${lacking.join(', ')}: it renders empty${all ? '' : ' for those events'}${guess ? ` (did you mean ${guess}?)` : ''} (hookshape events ${lacking[0]} lists the variables)`, { ...at, eventType: lacking[0]! }));
      }
    } else if (typeof root === 'string' && root in ENVELOPE_KEYS) {
      if (typeof key === 'string' && !ENVELOPE_KEYS[root]!.has(key)) {
        const guess = nearestPath(key, [...ENVELOPE_KEYS[root]!]);
        warnings.push(issue(use.field, `${use.field}${where}: ${path} is not a variable: ${root} has ${[...ENVELOPE_KEYS[root]!].join(', ')}${guess ? ` (did you mean ${root}.${guess}?)` : ''}`, at));
      }
    } else {
      // A misspelt root (`dta.call.id`, `evnt.id`): the same path under the root it is nearest to.
      const nearRoot = typeof root === 'string' ? TEMPLATE_ROOTS.find((known) => editDistance(known, root) <= Math.min(2, root.length - 1)) : undefined;
      const rest = path.slice(String(root).length);
      const guess = nearRoot === 'data' ? suggestDataVariable(`data${rest}`, events) ?? `data${rest}` : nearRoot ? `${nearRoot}${rest}` : undefined;
      warnings.push(issue(use.field, `${use.field}${where}: ${path} is not a variable: templates see event, data, webhook and secrets (${guess ? `did you mean ${guess}?` : `e.g. data.${path}`})`, at));
    }
  }
  return warnings;
}

/** A catalogue path as a filter reads it: items of arrays are reached without `[]` (`data.agents.name`). */
const readablePath = (documented: string) => documented.replace(/\[\]/g, '');

/** The paths a filter may read for an event type: the envelope and every documented variable. */
function filterPaths(type: EventType): string[] {
  return [...EVENT_ENVELOPE_VARIABLES, ...EVENT_CATALOGUE[type].variables].map((variable) => readablePath(variable.path));
}

/** Whether `path` (numbers pick array items, so they are dropped) is a variable of the type, or an object holding some. */
function isFilterVariable(type: EventType, path: string): boolean {
  const wanted = (pathSegments(path) ?? []).filter((segment) => !/^\d+$/.test(segment)).join('.');
  if (wanted === 'data') return true;
  return filterPaths(type).some((known) => known === wanted || known.startsWith(`${wanted}.`));
}

/**
 * Every path a filter reads must be a variable of a subscribed event (error, naming the path and where
 * it is written); one that only some of them carry is a warning (for the others it is missing).
 */
function filterPathIssues(filter: EventFilter, events: readonly EventType[]): { errors: ValidationIssue[]; warnings: ValidationIssue[] } {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  for (const { path, at } of filter.reads) {
    const field = fieldPath(['filter', ...at]);
    const lacking = events.filter((type) => !isFilterVariable(type, path));
    if (lacking.length === events.length) {
      const guess = nearestPath(path, [...new Set(events.flatMap(filterPaths))]);
      const hint = guess ? ` (did you mean ${guess}?)` : '';
      errors.push(issue(field, `${field}: ${path} is not a variable of ${events.join(', ')}${hint}; hookshape events ${events[0]} lists the variables`));
    } else if (lacking.length > 0) {
      warnings.push(issue(field, `${field}: ${path} is not a variable of ${lacking.join(', ')}: for those events it is missing (only $exist: false, $neq, $nin and $eq: null match a missing path)`, { eventType: lacking[0]! }));
    }
  }
  return { errors, warnings };
}

/** The secrets an `auth` map names (as written: it may not be valid yet). */
function authSecretNames(auth: unknown): string[] {
  if (!auth || typeof auth !== 'object') return [];
  return ['passwordSecretName', 'tokenSecretName', 'valueSecretName', 'clientSecretName'].map((field) => (auth as Record<string, unknown>)[field]).filter((name): name is string => typeof name === 'string');
}

/** An oauth2 token endpoint must be public and, but on loopback where allowed, https: it receives the client secret. */
function tokenUrlIssues(auth: WebhookConfig['auth'], allowLoopback: boolean): ValidationIssue[] {
  if (auth?.type !== 'oauth2') return [];
  const internal = internalTemplateHost(auth.tokenUrl, { allowLoopback });
  if (internal) return [issue('auth.tokenUrl', `auth.tokenUrl: the host ${internal.written} is ${internal.reason}; hookshape never calls internal host names (token requests would be refused)`)];
  const problem = tokenUrlProblem(auth.tokenUrl, allowLoopback);
  return problem ? [issue('auth.tokenUrl', `auth.tokenUrl: ${problem}`)] : [];
}

/** Placeholder values for the secrets the templates name (and a usable dummy signing key). */
function placeholderSecrets(uses: VariableUse[], document: Record<string, unknown>, signingSecretName: string | undefined): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const use of uses) {
    const [root, name] = use.segments;
    if (root === 'secrets' && typeof name === 'string') secrets[name] = secretPlaceholder(name);
  }
  for (const field of ['url', 'backupUrl']) {
    const source = document[field];
    const leading = typeof source === 'string' ? LEADING_SECRET.exec(source)?.[1] : undefined;
    if (leading) secrets[leading] = urlSecretPlaceholder(leading);
    // A port's placeholder is a port: the text one would make every such URL invalid.
    const port = typeof source === 'string' ? PORT_SECRET.exec(source.trim())?.[1] : undefined;
    if (port) secrets[port] = PORT_PLACEHOLDER;
  }
  if (signingSecretName) secrets[signingSecretName] = PLACEHOLDER_SIGNING_KEY;
  for (const name of authSecretNames(document.auth)) secrets[name] ??= secretPlaceholder(name);
  return secrets;
}

/** The secret names a webhook's templates read, with the placeholders the checks render them with. */
export function webhookPlaceholderSecrets(document: Record<string, unknown>, engine: TemplateEngine): Record<string, string> {
  const uses = templateFields(document).flatMap(({ field, source, mode }) => {
    try {
      return variableUses(field, engine.compile(field, source, mode));
    } catch {
      return [];
    }
  });
  const signing = typeof document.signingSecretName === 'string' ? document.signingSecretName : undefined;
  return placeholderSecrets(uses, document, signing);
}

const issueKey = (value: ValidationIssue) => `${value.field}\u0000${value.line}\u0000${value.column}\u0000${value.message.replace(/ \(rendering the [^)]+ sample\)$/, '')}`;

/**
 * Checks a webhook document as the dispatcher will use it: the schema; every template compiles (and
 * the URL's host lock, and the host its own text names is not internal: send/internal-hosts.ts); and
 * for every subscribed event, the catalogue's sample renders through the real buildRequest into a
 * valid request (absolute http(s) URL, safe headers, a body that parses for its format), for `url` and
 * for `backupUrl`. Reports every problem found, not only the first.
 */
export async function validateWebhookDocument(document: unknown, options: ValidateOptions): Promise<ValidationReport> {
  const { accountId, webhookId, engine } = options;
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    return { ok: false, errors: [issue('', 'the webhook document must be a map of fields (name, events, url...)')], warnings: [] };
  }
  const doc = document as Record<string, unknown>;
  const errors: ValidationIssue[] = [];
  const warnings = unknownFieldWarnings(doc);

  const parsed = parseWebhookConfig(accountId, webhookId, doc);
  if (!parsed.ok) errors.push(...parsed.issues.map(({ field, message }) => issue(field, field ? `${field}: ${message}` : message)));

  // Compile every template even when the schema fails, so one save shows every mistake.
  const uses: VariableUse[] = [];
  let compiled = true;
  for (const { field, source, mode } of templateFields(doc)) {
    if (mode === 'url') {
      const hostLock = checkUrlHostLock(source);
      if (hostLock) {
        errors.push(fromTemplateError(new TemplateError(field, hostLock), null));
        compiled = false;
      } else {
        const internal = internalTemplateHost(source, { allowLoopback: options.allowLoopback ?? false });
        if (internal) errors.push(issue(field, `${field}: the host ${internal.written} is ${internal.reason}; hookshape never calls internal host names (deliveries would be refused)`));
      }
    }
    try {
      uses.push(...variableUses(field, engine.compile(field, source, mode)));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.push(fromTemplateError(error, null));
      compiled = false;
    }
  }
  if (!parsed.ok || !compiled) {
    // The templates' variables are still checked against the event types that are valid (a draft
    // without a name yet still hears about its misspelt variables).
    const known = Array.isArray(doc.events) ? [...new Set(doc.events.filter((type): type is EventType => typeof type === 'string' && Object.hasOwn(EVENT_CATALOGUE, type)))] : [];
    if (known.length > 0) warnings.push(...variableWarnings(uses, known));
    return { ok: false, errors, warnings };
  }

  const webhook = parsed.webhook;
  const events = [...new Set(webhook.events)];
  warnings.push(...variableWarnings(uses, events));
  errors.push(...tokenUrlIssues(webhook.auth, options.allowLoopback ?? false));
  if (webhook.retry) {
    // Waits the webhook leaves unset are the deployment's; checked with the documented defaults.
    const window = retryWindowSeconds(retryPolicy(DEFAULT_RETRY_SETTINGS, webhook), webhook.backupUrl !== undefined);
    if (window > MAX_RETRY_WINDOW_SECONDS) {
      const days = (seconds: number) => `${Math.round((seconds / 86_400) * 10) / 10} days`;
      errors.push(issue('retry', `retry: its retries can take up to ${days(window)}${webhook.backupUrl === undefined ? '' : ' (the primary\'s, then the backup\'s)'}, counting each wait as at least the Retry-After cap; the limit is ${days(MAX_RETRY_WINDOW_SECONDS)} (Cloud Tasks'): fewer attempts, shorter waits or a lower retryAfterCapSeconds`));
    }
  }
  if (webhook.filter) {
    const found = filterPathIssues(webhook.filter, events);
    errors.push(...found.errors);
    warnings.push(...found.warnings);
  }
  const secrets = placeholderSecrets(uses, doc, webhook.signingSecretName);
  const seen = new Set<string>();
  for (const type of events) {
    for (const target of webhook.backupUrl === undefined ? (['primary'] as const) : (['primary', 'backup'] as const)) {
      const built = await renderSample(webhook, type, accountId, secrets, engine, target, options.now);
      if (built) {
        const found = fromTemplateError(built, type);
        const key = issueKey(found);
        if (!seen.has(key)) {
          seen.add(key);
          errors.push(found);
        }
      }
    }
  }
  return { ok: errors.length === 0, errors, warnings };
}

async function renderSample(webhook: WebhookConfig, type: EventType, accountId: string, secrets: Record<string, string>, engine: TemplateEngine, target: DeliveryTarget, now: Date | undefined): Promise<TemplateError | undefined> {
  const event: EventMessage = sampleEvent(type, accountId);
  const built = await buildRequest(webhook, event, secrets, engine, target, now ?? new Date());
  return built.ok ? undefined : built.error;
}

/** One line per problem, for logs and the console: "url: template error at line 1...; body: ...". */
export function summariseIssues(issues: readonly ValidationIssue[], limit = 3): string {
  const shown = issues.slice(0, limit).map((value) => value.message);
  return issues.length > limit ? `${shown.join('; ')}; and ${issues.length - limit} more` : shown.join('; ');
}
