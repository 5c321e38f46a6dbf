import { escapeXmlText } from '../core/xml-text.ts';

/** Headers that carry credentials: their values never reach a log, whatever produced them. */
const CREDENTIAL_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token',
  'webhook-signature', 'x-hub-signature', 'x-hub-signature-256',
]);

export const REDACTED = '[redacted]';

/**
 * The forms a secret takes in a request: as written, and as each body format's and the URL's escaping
 * writes it (render/output-escapers.ts: percent-encoded, with `'` too as `new URL` re-encodes a query,
 * form-encoded, JSON-escaped, XML entities, CSV quotes doubled), and base64. A unit test passes secrets
 * through every escaper and checks each form is here.
 */
export function secretForms(value: string): string[] {
  const percent = encodeURIComponent(value);
  return [
    value,
    percent,
    percent.replace(/'/g, '%27'),
    new URLSearchParams([['', value]]).toString().slice(1),
    JSON.stringify(value).slice(1, -1),
    escapeXmlText(value),
    value.replace(/"/g, '""'),
    Buffer.from(value).toString('base64'),
  ];
}

/** Replaces an account's secret values in text, in every form of secretForms, longest first. */
export class Redactor {
  private readonly needles: string[];
  /** The longest form, in characters: a cut that keeps N characters needs only N + this redacted. */
  readonly longest: number;

  constructor(secretValues: readonly string[]) {
    const forms = new Set<string>();
    for (const value of secretValues) {
      if (!value) continue;
      for (const form of secretForms(value)) forms.add(form);
    }
    this.needles = [...forms].sort((a, b) => b.length - a.length);
    this.longest = this.needles[0]?.length ?? 0;
  }

  text(value: string): string {
    let result = value;
    for (const needle of this.needles) if (result.includes(needle)) result = result.split(needle).join('[secret]');
    return result;
  }

  url(value: string): string {
    try {
      const url = new URL(value);
      if (url.password) url.password = 'redacted';
      return this.text(url.href);
    } catch {
      return this.text(value);
    }
  }

  headers(headers: Record<string, string | string[] | undefined>, alwaysRedact: readonly string[] = []): Record<string, string> {
    const always = new Set(alwaysRedact.map((name) => name.toLowerCase()));
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      const lower = name.toLowerCase();
      result[name] = CREDENTIAL_HEADERS.has(lower) || always.has(lower) ? REDACTED : this.text(Array.isArray(value) ? value.join(', ') : value);
    }
    return result;
  }
}
