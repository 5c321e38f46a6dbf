import * as liquidjs from 'liquidjs';
import { escapeXmlText } from '../core/xml-text.ts';

/**
 * How a `{{ }}` output is escaped depends on where it lands. The rule for users: write the template as
 * the receiver's own example and replace the example's value with the variable; the escaping keeps the
 * result well-formed whatever the value holds. Filters marked raw (`json`, `raw`) skip it.
 */
export const EscapeMode = ['url', 'json', 'xml', 'csv', 'yaml', 'form', 'none'] as const;
export type EscapeMode = (typeof EscapeMode)[number];

// Read once: liquidjs is CommonJS, and in the bundle each use of an imported name is a getter call (as in direct-render.ts).
const { Drop } = liquidjs;

/**
 * Liquid's own values (`nil`, `empty`, `blank`, a drop) as the plain value they stand for: an escaper or
 * the json filter would otherwise print the drop object as `{}`.
 */
export function plainValue(value: unknown): unknown {
  return value instanceof Drop ? (value as { valueOf(): unknown }).valueOf() : value;
}

/** The text of a value as Liquid would print it, except that objects and arrays print as JSON. */
export function outputText(given: unknown): string {
  const value = plainValue(given);
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value) ?? '';
}

/**
 * Lone UTF-16 surrogates (half an emoji, from data cut at a fixed length) as U+FFFD, as
 * String.prototype.toWellFormed does: encodeURIComponent throws on them.
 */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Characters a JSON string may hold raw that YAML parsers refuse or change (DEL, C1, NEL, separators, BOM, non-characters). */
const YAML_UNSAFE = /[\x7F-\x9F\u2028\u2029\uFEFF\uFFFE\uFFFF]/g;
const yamlSafe = (json: string) => json.replace(YAML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

// XML 1.0 cannot carry these characters even as references; they would make the body unparseable.
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export const escapers: Record<EscapeMode, (value: unknown) => string> = {
  /** A value in a URL template is one path segment or query value: everything reserved is encoded. */
  url: (value) => encodeURIComponent(wellFormed(outputText(value))),
  /** Inside a JSON string literal: the template writes the quotes, as in `"name": "{{ data.name }}"`. */
  json: (value) => JSON.stringify(outputText(value)).slice(1, -1),
  /** XML text or attribute content. */
  xml: (value) => escapeXmlText(outputText(value).replace(XML_INVALID, '\uFFFD')),
  /** One whole CSV field (RFC 4180): quoted when it holds a comma, quote, line break or edge space. */
  csv: (value) => {
    const text = outputText(value);
    return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  },
  /**
   * A whole YAML scalar, type-preserving: strings become double-quoted (JSON-style) scalars, numbers and
   * booleans stay bare, objects and arrays become flow collections. So `name: {{ data.name }}` is safe.
   */
  yaml: (given) => {
    const value = plainValue(given);
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    // JSON's string syntax is YAML's double-quoted scalar, once the characters YAML parsers refuse are escaped.
    if (typeof value === 'string') return yamlSafe(JSON.stringify(value));
    return yamlSafe(JSON.stringify(value instanceof Date ? value.toISOString() : value) ?? 'null');
  },
  /** application/x-www-form-urlencoded value, as browsers encode it (space as +). */
  form: (value) => new URLSearchParams([['', outputText(value)]]).toString().slice(1),
  none: outputText,
};
