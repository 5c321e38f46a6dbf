/**
 * A webhook draft from the request a receiver expects: paste its documented example (JSON, XML or a
 * SOAP envelope, a form body, CSV, or a whole `curl` command), name the event type, and every field of
 * the example is kept with its value replaced by the best-matching catalogue variable (match-variables.ts),
 * written for the format's escaping (render/output-escapers.ts: the body's `{{ }}` outputs are escaped
 * for JSON strings, XML, CSV fields and form values; `| json` writes typed JSON values). Fields no
 * variable fits stay as the example wrote them and are listed in `unmatched`, with where they are.
 */
import { CONTENT_TYPES, bodySyntaxCheck } from '../render/body-formats.ts';
import type { EventType } from '../events/event-catalogue.ts';
import type { BodyFormat } from '../webhooks/webhook-config.ts';
import { bestMatch, type Slot, type SlotType, type VariableMatch } from './match-variables.ts';
import { parseCurl } from './parse-curl.ts';

export const ExampleFormat = ['json', 'xml', 'form', 'csv', 'curl', 'text'] as const;
export type ExampleFormat = (typeof ExampleFormat)[number];

export const DEFAULT_DRAFT_URL = 'https://receiver.example.com/webhook';

export interface WebhookDraft {
  name: string;
  events: EventType[];
  method: string;
  url: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  format: BodyFormat;
  body?: string;
  auth?: { type: 'basic'; username: string; passwordSecretName: string };
}

export type FieldLocation = 'body' | 'query' | 'headers' | 'url';

export interface MappedField {
  /** Where the field is: `body.properties.email`, `body.Envelope.Body.create.FirstName`, `query.from`. */
  path: string;
  location: FieldLocation;
  value: string;
  variable: string;
  template: string;
  score: number;
}

export interface UnmatchedField {
  path: string;
  location: FieldLocation;
  /** The literal kept, as the example wrote it. */
  value: string;
  /** Where the literal is in the draft's template of that location (1-based), for highlighting. */
  line: number;
  column: number;
  reason: string;
}

export interface ScaffoldInput {
  eventType: EventType;
  example: string;
  format?: ExampleFormat | undefined;
}

export type ScaffoldResult =
  | { ok: true; draft: WebhookDraft; exampleFormat: ExampleFormat; mapped: MappedField[]; unmatched: UnmatchedField[]; secrets: string[] }
  | { ok: false; field: 'example' | 'format'; message: string; line?: number; column?: number };

/** A literal text Liquid must not read as a tag or an output. */
function literal(text: string): string {
  return /\{\{|\{%/.test(text) ? `{% raw %}${text}{% endraw %}` : text;
}

/** The output of a variable for its slot, per derivation and escaping context. */
function output(match: VariableMatch, jsonValue: boolean): string {
  const v = match.variable;
  switch (match.derivation) {
    case 'first-word': return `{{ ${v} | split: " " | first }}`;
    case 'last-word': return `{{ ${v} | split: " " | last }}`;
    case 'epoch-seconds': return `{{ ${v} | date: "%s" }}`;
    case 'join': return `{{ ${v} | join: ", " }}`;
    case 'json': return jsonValue ? `{{ ${v} | json }}` : `{{ ${v} }}`;
    default: return `{{ ${v} }}`;
  }
}

/** Builds a template while keeping the line and column of each literal it writes. */
class Writer {
  text = '';
  write(piece: string): void {
    this.text += piece;
  }
  position(): { line: number; column: number } {
    const lines = this.text.split('\n');
    return { line: lines.length, column: lines.at(-1)!.length + 1 };
  }
}

interface Context {
  eventType: EventType;
  mapped: MappedField[];
  unmatched: UnmatchedField[];
}

const NO_MATCH = 'no catalogue variable fits its name, type and value: kept as the example wrote it';

function place(context: Context, location: FieldLocation, path: string, slot: Slot, value: string, writer: Writer | undefined, render: (match: VariableMatch | undefined) => string): string {
  const match = bestMatch(context.eventType, slot);
  const at = writer?.position() ?? { line: 1, column: 1 };
  const text = render(match);
  if (match) context.mapped.push({ path, location, value, variable: match.variable, template: text, score: match.score });
  else context.unmatched.push({ path, location, value, ...at, reason: NO_MATCH });
  writer?.write(text);
  return text;
}

const jsonType = (value: unknown): SlotType => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string');
const isPrimitive = (value: unknown) => value === null || typeof value !== 'object';

function scaffoldJson(context: Context, example: string): string {
  const writer = new Writer();
  const walk = (value: unknown, path: string, key: string | undefined, parents: string[], indent: string): void => {
    if (Array.isArray(value)) {
      if (key !== undefined && value.length > 0 && value.every(isPrimitive)) {
        const slot: Slot = { key, parents, type: 'array', value };
        if (bestMatch(context.eventType, slot)) {
          place(context, 'body', path, slot, JSON.stringify(value), writer, (match) => output(match!, true));
          return;
        }
      }
      if (value.length === 0) return writer.write('[]');
      writer.write('[\n');
      value.forEach((item, index) => {
        writer.write(`${indent}  `);
        // An item is named by its array: `tags[0]` is a tag.
        if (isPrimitive(item)) walk(item, `${path}[${index}]`, key, parents, `${indent}  `);
        else walk(item, `${path}[${index}]`, undefined, key === undefined ? parents : [...parents, key], `${indent}  `);
        writer.write(index < value.length - 1 ? ',\n' : '\n');
      });
      return writer.write(`${indent}]`);
    }
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.length === 0) return writer.write('{}');
      writer.write('{\n');
      const inner = key === undefined ? parents : [...parents, key];
      entries.forEach(([name, item], index) => {
        writer.write(`${indent}  ${literal(JSON.stringify(name))}: `);
        walk(item, `${path}.${name}`, name, inner, `${indent}  `);
        writer.write(index < entries.length - 1 ? ',\n' : '\n');
      });
      return writer.write(`${indent}}`);
    }
    const text = literal(JSON.stringify(value));
    if (key === undefined) return writer.write(text);
    const type = jsonType(value);
    place(context, 'body', path, { key, parents, type, value }, String(value), writer, (match) => {
      if (!match) return text;
      return type === 'string' && match.derivation !== 'json' ? `"${output(match, false)}"` : output(match, true);
    });
  };
  walk(JSON.parse(example), 'body', undefined, [], '');
  return writer.text;
}

const XML_ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeXml = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, name: string) =>
    name.startsWith('#x') || name.startsWith('#X') ? String.fromCodePoint(parseInt(name.slice(2), 16)) : name.startsWith('#') ? String.fromCodePoint(Number(name.slice(1))) : XML_ENTITY[name.toLowerCase()] ?? whole);
const localName = (name: string) => name.replace(/^[^:]*:/, '');

/** XML kept byte for byte except the text of leaf elements and plain attributes (not xmlns, not prefixed). */
function scaffoldXml(context: Context, example: string): string {
  const writer = new Writer();
  const stack: string[] = [];
  let i = 0;
  const copyUntil = (end: string) => {
    const stop = example.indexOf(end, i);
    const to = stop < 0 ? example.length : stop + end.length;
    writer.write(example.slice(i, to));
    i = to;
  };
  while (i < example.length) {
    if (example.startsWith('<!--', i)) copyUntil('-->');
    else if (example.startsWith('<![CDATA[', i)) {
      const end = example.indexOf(']]>', i);
      const content = example.slice(i + 9, end);
      const key = stack.at(-1);
      const raw = example.slice(i, end + 3);
      i = end + 3;
      if (key === undefined || content.trim() === '') writer.write(raw);
      else place(context, 'body', `body.${stack.map(localName).join('.')}`, { key: localName(key), parents: stack.slice(0, -1).map(localName), type: 'text', value: content }, content, writer, (match) => (match ? output(match, false) : literal(raw)));
    } else if (example.startsWith('<?', i)) copyUntil('?>');
    else if (example.startsWith('<!', i)) copyUntil('>');
    else if (example.startsWith('</', i)) {
      stack.pop();
      copyUntil('>');
    } else if (example[i] === '<') {
      const end = example.indexOf('>', i);
      const tag = example.slice(i, end + 1);
      i = end + 1;
      const name = /^<([^\s/>]+)/.exec(tag)![1]!;
      const selfClosing = tag.endsWith('/>');
      let last = 0;
      for (const attribute of tag.matchAll(/(\s)([^\s=/>]+)(\s*=\s*)("([^"]*)"|'([^']*)')/g)) {
        const attrName = attribute[2]!;
        const quote = attribute[4]![0]!;
        const rawValue = attribute[5] ?? attribute[6] ?? '';
        const valueStart = attribute.index! + attribute[1]!.length + attrName.length + attribute[3]!.length + 1;
        writer.write(tag.slice(last, valueStart));
        last = valueStart + rawValue.length;
        if (attrName.startsWith('xmlns') || attrName.includes(':')) writer.write(rawValue);
        else place(context, 'body', `body.${[...stack, name].map(localName).join('.')}@${attrName}`, { key: attrName, parents: [...stack, name].map(localName), type: 'text', value: decodeXml(rawValue) }, decodeXml(rawValue), writer, (match) => (match ? output(match, false) : literal(rawValue)));
        void quote;
      }
      writer.write(tag.slice(last));
      if (!selfClosing) stack.push(name);
    } else {
      const next = example.indexOf('<', i);
      const text = example.slice(i, next < 0 ? example.length : next);
      i = next < 0 ? example.length : next;
      const key = stack.at(-1);
      const trimmed = text.trim();
      // Only text directly followed by the element's end tag is a value (not indentation, not mixed content).
      if (key === undefined || trimmed === '' || !example.startsWith('</', i)) {
        writer.write(text);
        continue;
      }
      const lead = text.slice(0, text.indexOf(trimmed));
      writer.write(lead);
      place(context, 'body', `body.${stack.map(localName).join('.')}`, { key: localName(key), parents: stack.slice(0, -1).map(localName), type: 'text', value: decodeXml(trimmed) }, decodeXml(trimmed), writer, (match) => (match ? output(match, false) : literal(trimmed)));
      writer.write(text.slice(lead.length + trimmed.length));
    }
  }
  return writer.text;
}

const formDecode = (text: string) => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
};

function scaffoldForm(context: Context, example: string): string {
  const writer = new Writer();
  example.trim().split('&').forEach((pair, index) => {
    if (index > 0) writer.write('&');
    const eq = pair.indexOf('=');
    if (eq < 0) return writer.write(literal(pair));
    const [rawKey, rawValue] = [pair.slice(0, eq), pair.slice(eq + 1)];
    const key = formDecode(rawKey);
    writer.write(`${literal(rawKey)}=`);
    const bracket = /^([^[]+)\[([^\]]+)\]$/.exec(key);
    const slot: Slot = bracket ? { key: bracket[2]!, parents: [bracket[1]!], type: 'text', value: formDecode(rawValue) } : { key, parents: [], type: 'text', value: formDecode(rawValue) };
    place(context, 'body', `body.${key}`, slot, formDecode(rawValue), writer, (match) => (match ? output(match, false) : literal(rawValue)));
  });
  return writer.text;
}

/** RFC 4180 rows, each field with its raw text (quotes kept) and its value. */
function csvRows(text: string): Array<Array<{ raw: string; value: string }>> | string {
  const rows: Array<Array<{ raw: string; value: string }>> = [];
  let row: Array<{ raw: string; value: string }> = [];
  let i = 0;
  for (;;) {
    const start = i;
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return `a quoted field (line ${rows.length + 1}) is not closed`;
        if (text[i] === '"' && text[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else value += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') value += text[i++];
    }
    row.push({ raw: text.slice(start, i), value });
    if (text[i] === ',') {
      i++;
      continue;
    }
    rows.push(row);
    row = [];
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    if (i >= text.length) return rows;
  }
}

function scaffoldCsv(context: Context, example: string): string | { message: string } {
  const newline = example.includes('\r\n') ? '\r\n' : '\n';
  const rows = csvRows(example.replace(/(\r?\n)+$/, ''));
  if (typeof rows === 'string') return { message: rows };
  const writer = new Writer();
  const [header, ...data] = rows;
  writer.write(header!.map((field) => literal(field.raw)).join(','));
  data.forEach((row, rowIndex) => {
    writer.write(newline);
    row.forEach((field, column) => {
      if (column > 0) writer.write(',');
      const key = header![column]?.value;
      if (key === undefined || key.trim() === '') return writer.write(literal(field.raw));
      place(context, 'body', `body[${rowIndex}].${key}`, { key, parents: [], type: 'text', value: field.value }, field.value, writer, (match) => (match ? output(match, false) : literal(field.raw)));
    });
  });
  return writer.text + newline;
}

/** The format of a pasted body, from its Content-Type when known, else from its content. */
export function detectFormat(example: string, contentType?: string): Exclude<ExampleFormat, 'curl'> {
  const type = contentType?.toLowerCase() ?? '';
  if (/json/.test(type)) return 'json';
  if (/xml|soap/.test(type)) return 'xml';
  if (/x-www-form-urlencoded/.test(type)) return 'form';
  if (/csv/.test(type)) return 'csv';
  const text = example.trim();
  if (/^[[{]/.test(text)) return 'json';
  if (text.startsWith('<')) return 'xml';
  if (/^[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*$/.test(text)) return 'form';
  const rows = csvRows(text);
  if (typeof rows !== 'string' && rows.length > 1 && rows[0]!.length > 1 && rows.every((row) => row.length === rows[0]!.length)) return 'csv';
  return 'text';
}

const CREDENTIAL_HEADER = /^(?:authorization|proxy-authorization|cookie|x-api-key|api-key|apikey|x-auth-token|x-access-token)$|token|secret|password|api[-_]?key/i;

/** A credential in the example becomes an account secret the template reads: the draft holds none. */
function secretHeader(name: string, value: string, secrets: string[]): string {
  const scheme = /^(Bearer|Basic|Token|Bot|Key)\s+\S/i.exec(value)?.[1];
  const secret = name.toLowerCase() === 'authorization' ? (scheme?.toLowerCase() === 'basic' ? 'RECEIVER_BASIC_CREDENTIALS' : 'RECEIVER_TOKEN') : `RECEIVER_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
  if (!secrets.includes(secret)) secrets.push(secret);
  return scheme ? `${scheme} {{ secrets.${secret} }}` : `{{ secrets.${secret} }}`;
}

const BODY_FORMAT: Record<Exclude<ExampleFormat, 'curl'>, BodyFormat> = { json: 'json', xml: 'xml', form: 'form', csv: 'csv', text: 'text' };

async function bodyTemplate(context: Context, format: Exclude<ExampleFormat, 'curl'>, example: string): Promise<{ ok: true; body: string } | { ok: false; message: string; line?: number; column?: number }> {
  switch (format) {
    case 'json': {
      const problem = (await bodySyntaxCheck('json'))(example);
      if (problem) return { ok: false, ...problem, message: `is not valid JSON: ${problem.message}` };
      return { ok: true, body: scaffoldJson(context, example) };
    }
    case 'xml': {
      const problem = (await bodySyntaxCheck('xml'))(example.trim());
      if (problem) return { ok: false, ...problem, message: `is not well-formed XML: ${problem.message}` };
      return { ok: true, body: scaffoldXml(context, example.trim()) };
    }
    case 'form':
      return { ok: true, body: scaffoldForm(context, example) };
    case 'csv': {
      const body = scaffoldCsv(context, example);
      return typeof body === 'string' ? { ok: true, body } : { ok: false, message: `is not CSV: ${body.message}` };
    }
    case 'text': {
      const writer = new Writer();
      context.unmatched.push({ path: 'body', location: 'body', value: example, line: 1, column: 1, reason: 'a plain text body: kept as written; insert variables with the picker' });
      writer.write(literal(example));
      return { ok: true, body: writer.text };
    }
  }
}

/** The draft of a webhook for the example; `ok: false` names what in the example could not be read. */
export async function scaffoldWebhook(input: ScaffoldInput): Promise<ScaffoldResult> {
  const example = input.example.replace(/^\uFEFF/, '');
  if (example.trim() === '') return { ok: false, field: 'example', message: 'is empty: paste the request the receiver documents' };
  const isCurl = /^\s*(?:\$\s+)?curl\s/.test(example);
  const exampleFormat: ExampleFormat = input.format ?? (isCurl ? 'curl' : detectFormat(example));
  const context: Context = { eventType: input.eventType, mapped: [], unmatched: [] };
  const secrets: string[] = [];
  const headers: Record<string, string> = {};
  const query: Record<string, string> = {};
  let method = 'POST';
  let url = DEFAULT_DRAFT_URL;
  let auth: WebhookDraft['auth'];
  let body = example;
  let contentType: string | undefined;
  if (exampleFormat === 'curl') {
    const parsed = parseCurl(example);
    if (!parsed.ok) return { ok: false, field: 'example', message: `is not a curl command this can read: ${parsed.message}` };
    const request = parsed.request;
    method = request.method;
    let target: URL;
    try {
      target = new URL(request.url);
    } catch {
      return { ok: false, field: 'example', message: `names the URL ${request.url}, which is not an absolute URL` };
    }
    for (const [name, value] of target.searchParams) {
      place(context, 'query', `query.${name}`, { key: name, parents: [], type: 'text', value }, value, undefined, (match) => {
        query[name] = match ? output(match, false) : literal(value);
        return query[name]!;
      });
    }
    target.search = '';
    target.hash = '';
    url = literal(target.href);
    for (const [name, value] of request.headers) {
      if (name.toLowerCase() === 'content-type') contentType = value;
      headers[name] = CREDENTIAL_HEADER.test(name) ? secretHeader(name, value, secrets) : literal(value);
    }
    if (request.user !== undefined) {
      const username = request.user.split(':')[0]!;
      auth = { type: 'basic', username, passwordSecretName: 'RECEIVER_PASSWORD' };
      secrets.push('RECEIVER_PASSWORD');
    }
    body = request.body ?? '';
  } else {
    context.unmatched.push({ path: 'url', location: 'url', value: DEFAULT_DRAFT_URL, line: 1, column: 1, reason: "the example names no URL: write the receiver's" });
  }
  const hasBody = body.trim() !== '' && method !== 'GET' && method !== 'HEAD';
  const bodyFormat = exampleFormat === 'curl' ? detectFormat(body, contentType) : exampleFormat;
  let draftBody: string | undefined;
  if (hasBody) {
    const built = await bodyTemplate(context, bodyFormat, body);
    if (!built.ok) return { ok: false, field: 'example', message: exampleFormat === 'curl' ? `its body ${built.message}` : built.message, ...(built.line === undefined ? {} : { line: built.line, column: built.column ?? 1 }) };
    draftBody = built.body;
  }
  const format = BODY_FORMAT[bodyFormat];
  // The format's Content-Type goes by default; the example's stays when it says more (text/xml for SOAP).
  const contentTypeName = Object.keys(headers).find((name) => name.toLowerCase() === 'content-type');
  if (contentTypeName && headers[contentTypeName]!.split(';')[0]!.trim().toLowerCase() === CONTENT_TYPES[format].split(';')[0]) delete headers[contentTypeName];
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return 'receiver';
    }
  })();
  const draft: WebhookDraft = {
    name: `${input.eventType} to ${host}`,
    events: [input.eventType],
    method,
    url,
    query,
    headers,
    format,
    ...(draftBody === undefined ? {} : { body: draftBody }),
    ...(auth ? { auth } : {}),
  };
  return { ok: true, draft, exampleFormat, mapped: context.mapped, unmatched: context.unmatched, secrets };
}
