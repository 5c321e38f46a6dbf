/** Headers that carry credentials: their values never reach a log, whatever produced them. */
const CREDENTIAL_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token',
  'webhook-signature', 'x-hub-signature', 'x-hub-signature-256',
]);

export const REDACTED = '[redacted]';

/**
 * Replaces an account's secret values in text: as written, percent-encoded, JSON-escaped and base64
 * (the forms a template's filters most often turn them into), longest first.
 */
export class Redactor {
  private readonly needles: string[];

  constructor(secretValues: readonly string[]) {
    const forms = new Set<string>();
    for (const value of secretValues) {
      if (!value) continue;
      forms.add(value);
      forms.add(encodeURIComponent(value));
      forms.add(JSON.stringify(value).slice(1, -1));
      forms.add(Buffer.from(value).toString('base64'));
    }
    this.needles = [...forms].sort((a, b) => b.length - a.length);
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
