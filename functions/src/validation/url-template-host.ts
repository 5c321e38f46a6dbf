/**
 * What a URL template's own text says about its host, for the internal-host check of validation. The
 * host lock (render/url-host-lock.ts) already guarantees that the authority is literal text and
 * `{{ secrets.NAME }}` outputs. A literal host is judged as it is; a host built with secrets is judged
 * only by what no secret value can change: its literal labels after the last output
 * (`{{ secrets.TENANT }}.internal` is under .internal whatever TENANT holds). A host that comes whole from
 * a secret (a leading base URL, `https://{{ secrets.HOST }}/`) is left to the sender, which judges every
 * rendered URL before it looks anything up.
 */
import { internalHost, type InternalHost, type InternalHostOptions } from '../send/internal-hosts.ts';

const TAG = /(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})/;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
/** Stands for one tag while the authority is cut into userinfo, host and port. */
const MARK = '\u0000';

export interface TemplateHost {
  /** The host as the template writes it, tags included: `api.example.com`, `{{ secrets.TENANT }}.internal`. */
  written: string;
  /** The name to judge: the literal host, or a stand-in label followed by the literal labels after the last tag. */
  judged: string;
  /** True when the host is literal text only (no secret in it). */
  literal: boolean;
}

/** The host part of a URL template, or undefined when no literal part of it can be judged. */
export function templateHost(source: string): TemplateHost | undefined {
  const parts = source.trim().split(TAG); // even indices: literal text; odd: tags
  const scheme = SCHEME.exec(parts[0] ?? '');
  if (!scheme) return undefined; // a leading secret (base URL), or not an absolute URL (rendering says so)
  const tags: string[] = [];
  let authority = '';
  for (let index = 0; index < parts.length; index++) {
    const part = index === 0 ? parts[0]!.slice(scheme[0].length) : parts[index]!;
    if (index % 2 === 1) {
      tags.push(part);
      authority += MARK;
      continue;
    }
    const end = part.search(/[/?#\\]/); // the WHATWG parser also ends an http(s) authority at a backslash
    authority += end < 0 ? part : part.slice(0, end);
    if (end >= 0) break;
  }
  const at = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(at + 1);
  if (hostAndPort.startsWith('[')) return undefined; // an IPv6 address: the connect-time guard judges it
  const colon = hostAndPort.indexOf(':');
  const host = colon < 0 ? hostAndPort : hostAndPort.slice(0, colon);
  let tagIndex = [...authority.slice(0, at + 1)].filter((char) => char === MARK).length;
  const written = host.replace(new RegExp(MARK, 'g'), () => tags[tagIndex++] ?? '');
  const lastTag = host.lastIndexOf(MARK);
  if (lastTag < 0) return { written, judged: host, literal: true };
  const tail = host.slice(lastTag + 1).replace(/\.+$/, '');
  const dot = tail.indexOf('.');
  if (dot < 0) return undefined; // a secret's value decides the whole last label
  return { written, judged: `secret${tail.slice(dot)}`, literal: false };
}

/** The internal host a URL template names by its own text, if any. */
export function internalTemplateHost(source: string, options: InternalHostOptions = {}): (InternalHost & { written: string }) | undefined {
  const host = templateHost(source);
  if (!host) return undefined;
  const found = internalHost(host.judged, options);
  return found ? { ...found, written: host.literal ? found.host : host.written } : undefined;
}
