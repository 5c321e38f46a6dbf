/**
 * A `curl` command as receivers' documentation prints it, read into the request it sends: method,
 * URL, headers, body and user. Only what such examples use; anything that reads a file or the network
 * is refused with the option named, never guessed.
 */

export interface CurlRequest {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: string | undefined;
  user: string | undefined;
}

export type CurlParse = { ok: true; request: CurlRequest } | { ok: false; message: string };

/** Shell words: quotes, backslash escapes and line continuations, as bash reads them. */
export function shellWords(text: string): string[] | string {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      i += text[i + 1] === '\n' ? 2 : 3;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return 'a single quote is not closed';
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '$' && text[i + 1] === "'") {
      let j = i + 2;
      for (; j < text.length && text[j] !== "'"; j++) {
        if (text[j] === '\\' && j + 1 < text.length) {
          const next = text[++j]!;
          word += ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[next] ?? `\\${next}`;
        } else word += text[j];
      }
      if (j >= text.length) return "a $'…' quote is not closed";
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && '"\\$`\n'.includes(text[j + 1] ?? '')) {
          if (text[j + 1] !== '\n') word += text[j + 1];
          j++;
        } else word += text[j];
      }
      if (j >= text.length) return 'a double quote is not closed';
      i = j + 1;
    } else if (c === '\\') {
      word += text[i + 1] ?? '';
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const WITH_VALUE: Record<string, string> = {
  '-X': 'method', '--request': 'method',
  '-H': 'header', '--header': 'header',
  '-d': 'data', '--data': 'data', '--data-raw': 'raw', '--data-binary': 'data', '--data-ascii': 'data',
  '--data-urlencode': 'urlencode', '--json': 'json',
  '-u': 'user', '--user': 'user', '--url': 'url',
  '-A': 'agent', '--user-agent': 'agent', '-e': 'referer', '--referer': 'referer', '-b': 'cookie', '--cookie': 'cookie',
  '-o': 'ignore', '--output': 'ignore', '-m': 'ignore', '--max-time': 'ignore', '--connect-timeout': 'ignore', '-w': 'ignore', '--write-out': 'ignore', '--retry': 'ignore',
};
const FLAGS = new Set(['-s', '-S', '-sS', '-Ss', '-v', '-i', '-L', '-k', '-f', '-g', '--silent', '--show-error', '--verbose', '--include', '--location', '--insecure', '--fail', '--compressed', '--globoff', '--http1.1', '--http2', '-#', '--no-progress-meter']);

function urlencodeData(value: string): string {
  const eq = value.indexOf('=');
  if (eq < 0) return encodeURIComponent(value);
  return `${value.slice(0, eq)}${eq === 0 ? '' : '='}${encodeURIComponent(value.slice(eq + 1))}`.replace(/^=/, '');
}

export function parseCurl(command: string): CurlParse {
  const words = shellWords(command.trim().replace(/^\$\s+/, ''));
  if (typeof words === 'string') return { ok: false, message: words };
  if (words[0] !== 'curl') return { ok: false, message: 'a curl command starts with curl' };
  let method: string | undefined;
  let url: string | undefined;
  let get = false;
  const headers: Array<[string, string]> = [];
  const data: string[] = [];
  let user: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (FLAGS.has(word)) continue;
    if (word === '-G' || word === '--get') {
      get = true;
      continue;
    }
    let option = WITH_VALUE[word] ? word : undefined;
    let value: string | undefined;
    if (option) value = words[++i];
    else if (/^-[XHdubAe]./.test(word)) {
      option = word.slice(0, 2);
      value = word.slice(2);
    }
    if (!option) {
      if (word.startsWith('-')) return { ok: false, message: `the option ${word} is not one a receiver's example needs (supported: -X, -H, -d, --data, --data-raw, --data-binary, --data-urlencode, --json, -u, -G, --url)` };
      if (url !== undefined) return { ok: false, message: `two URLs: ${url} and ${word}` };
      url = word;
      continue;
    }
    if (value === undefined) return { ok: false, message: `${word} needs a value` };
    const role = WITH_VALUE[option]!;
    const readsFile = role === 'urlencode' ? !value.slice(0, Math.max(0, value.indexOf('='))).length && /^[^=]*@/.test(value) && !value.startsWith('=') : (role === 'data' || role === 'json') && value.startsWith('@');
    if (readsFile) {
      return { ok: false, message: `${option} ${value} reads a file: paste the file's content instead (${option} '…')` };
    }
    switch (role) {
      case 'method': method = value.toUpperCase(); break;
      case 'header': {
        const colon = value.indexOf(':');
        if (colon <= 0) return { ok: false, message: `-H ${value}: a header is Name: value` };
        headers.push([value.slice(0, colon).trim(), value.slice(colon + 1).trim()]);
        break;
      }
      case 'data':
      case 'raw': data.push(value); break;
      case 'urlencode': data.push(urlencodeData(value)); break;
      case 'json':
        data.push(value);
        if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) headers.push(['Content-Type', 'application/json']);
        if (!headers.some(([name]) => name.toLowerCase() === 'accept')) headers.push(['Accept', 'application/json']);
        break;
      case 'user': user = value; break;
      case 'url': url = value; break;
      case 'agent': headers.push(['User-Agent', value]); break;
      case 'referer': headers.push(['Referer', value]); break;
      case 'cookie': headers.push(['Cookie', value]); break;
    }
  }
  if (url === undefined) return { ok: false, message: 'the command names no URL' };
  if (!/^https?:\/\//i.test(url)) url = `https://${url}`;
  let body = data.length > 0 ? data.join('&') : undefined;
  if (get && body !== undefined) {
    url += (url.includes('?') ? '&' : '?') + body;
    body = undefined;
  }
  return { ok: true, request: { method: method ?? (body === undefined ? 'GET' : 'POST'), url, headers, body, user } };
}
