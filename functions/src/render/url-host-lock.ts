/**
 * The scheme, host and port of a webhook's URL must come from the webhook's author: literal text or
 * `{{ secrets.NAME }}` outputs. Event data is written by end customers (a form field), so letting it
 * choose the host would let anyone aim the account's requests — and its secrets — anywhere.
 *
 * Checked on the template source, before rendering, walking left to right: until the authority ends (the
 * first literal `/`, `?` or `#` after `scheme://`, or after a leading secret that holds a base URL),
 * every `{{ }}` or `{% %}` must be a secrets output.
 */
const SECRETS_OUTPUT = /^\{\{-?\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*(\|\s*[a-z_]+(\s*:\s*("[^"]*"|'[^']*'|[\w.-]+))?\s*)*-?\}\}$/;
const SCHEME_PREFIX = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
const SECRET_MARK = '\u0000';

export function checkUrlHostLock(source: string): string | undefined {
  let prefix = '';
  for (const part of source.trim().split(/(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})/)) {
    if (part.startsWith('{{') || part.startsWith('{%')) {
      if (!SECRETS_OUTPUT.test(part)) {
        return `the scheme, host and port must be literal text or {{ secrets.NAME }}, but ${part} comes before the path starts; event data may only fill the path and query`;
      }
      prefix += SECRET_MARK;
      continue;
    }
    for (const char of part) {
      prefix += char;
      if (char !== '/' && char !== '?' && char !== '#') continue;
      const scheme = SCHEME_PREFIX.exec(prefix);
      if (scheme ? prefix.length > scheme[0].length : prefix.startsWith(SECRET_MARK)) return undefined;
    }
  }
  return undefined;
}
