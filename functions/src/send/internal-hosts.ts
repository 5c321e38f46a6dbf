/**
 * Host names hookshape never looks up or calls: names that only mean something inside a network, so
 * any answer would come from the network the functions run in (Google's), never from the receiver's.
 * Pure (no DNS, no I/O); used by the sender before a request is made and by validation on URL
 * templates, so both say the same thing about the same host.
 *
 * - Google Cloud's metadata server (`metadata.google.internal`, `metadata.goog`; bare `metadata` is
 *   caught as a single label): it hands out the function's access tokens.
 * - `localhost` and `*.localhost` (RFC 6761: always this machine). The only names a loopback allowance
 *   (ALLOW_LOOPBACK_DESTINATIONS, local stack and tests) lets through, like 127.0.0.1 and ::1.
 * - Names under suffixes public DNS does not have, which a local resolver answers: `.internal`
 *   (private-use top-level domain, ICANN 2024; Google Cloud's internal DNS: VMs, the metadata server),
 *   `.local` (multicast DNS, RFC 6762), `.localdomain` (/etc/hosts), `.home.arpa` (RFC 8375), and
 *   `.lan`, `.intranet`, `.corp`, `.home` (private networks; `.corp` and `.home` are withheld from the
 *   root by ICANN because of them).
 * - Single-label names (no dot: `metadata`, `vm-1`, `intranet`). A resolver completes them with its
 *   search domains, which on Google Cloud are internal zones (`metadata` becomes
 *   `metadata.google.internal`, `vm-1` a VM of the project). Public DNS has no usable dotless names
 *   (ICANN forbids them for gTLDs, IAB RFC 7085), so no real receiver is lost.
 *
 * The rule judges the name as it would be looked up: lower case, IDNA (full-width letters, soft
 * hyphens, ideographic full stops), percent-decoded, trailing dots removed — the WHATWG URL parser's
 * reading, which is what got connects to. IP addresses are not names: the connect-time guard
 * (request-filtering-agent) judges every address, literal or resolved.
 */
import { isIP } from 'node:net';

export interface InternalHost {
  /** The name as it would be looked up: lower case, ASCII, without trailing dots. */
  host: string;
  /** Completes "<host> is …": why the name is refused. */
  reason: string;
  /** localhost or *.localhost: allowed where loopback addresses are. */
  loopback: boolean;
}

export interface InternalHostOptions {
  /** Lets localhost and *.localhost through (ALLOW_LOOPBACK_DESTINATIONS: local stack and tests only). */
  allowLoopback?: boolean;
}

const METADATA_SERVER = "the name of Google Cloud's metadata server, which hands out the function's credentials";
const METADATA_NAMES = ['metadata.google.internal', 'metadata.goog'];

const LOOPBACK_REASON = 'a loopback name (RFC 6761: the machine itself), called only with ALLOW_LOOPBACK_DESTINATIONS=true (local stack and tests)';

const SUFFIXES: ReadonlyArray<{ suffix: string; reason: string }> = [
  { suffix: 'internal', reason: "under .internal, the private-use top-level domain of Google Cloud's internal DNS (VMs, the metadata server)" },
  { suffix: 'local', reason: 'under .local, multicast DNS names of machines on the local network (RFC 6762)' },
  { suffix: 'localdomain', reason: 'under .localdomain, the local domain of /etc/hosts' },
  { suffix: 'home.arpa', reason: 'under .home.arpa, home-network names (RFC 8375)' },
  ...['lan', 'intranet', 'corp', 'home'].map((suffix) => ({ suffix, reason: `under .${suffix}, private-network names that public DNS does not have` })),
];

const SINGLE_LABEL_REASON =
  "a single-label name: it resolves only through the resolver's search domains, which on Google Cloud are internal zones (metadata becomes metadata.google.internal); a public receiver has a dotted name";

const within = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/**
 * The name as a resolver would look it up. A URL's `hostname` is already parsed; anything else goes
 * through the same WHATWG parser (case, IDNA, percent-decoding), then loses its trailing dots
 * (`metadata.google.internal.` is the same name, fully qualified).
 */
export function canonicalHostname(hostname: string): string {
  let host = hostname.trim();
  if (!/[/?#@\\:[\]]/.test(host)) {
    try {
      host = new URL(`http://${host}/`).hostname;
    } catch {
      host = host.toLowerCase(); // not a valid host: judged as written
    }
  } else {
    host = host.toLowerCase();
  }
  return host.replace(/\.+$/, '');
}

const isAddress = (host: string) => isIP(host) !== 0 || (host.startsWith('[') && host.endsWith(']'));

/** Why hookshape refuses to look up or call this host, or undefined for a public name or an IP address. */
export function internalHost(hostname: string, options: InternalHostOptions = {}): InternalHost | undefined {
  const host = canonicalHostname(hostname);
  if (isAddress(host)) return undefined;
  const found = (reason: string, loopback = false): InternalHost | undefined =>
    loopback && options.allowLoopback ? undefined : { host, reason, loopback };
  if (host === '') return found('not a host name');
  if (within(host, 'localhost')) return found(LOOPBACK_REASON, true);
  if (host === 'metadata' || METADATA_NAMES.some((name) => within(host, name))) return found(METADATA_SERVER);
  const suffix = SUFFIXES.find(({ suffix }) => within(host, suffix));
  if (suffix) return found(suffix.reason);
  if (!host.includes('.')) return found(SINGLE_LABEL_REASON);
  return undefined;
}

/** "metadata.google.internal is …": the reason a record or a validation shows. */
export function describeInternalHost(found: InternalHost): string {
  return `${found.host || '(empty)'} is ${found.reason}`;
}

/** The host of an absolute URL, judged by internalHost; undefined when the URL does not parse. */
export function internalUrlHost(url: string | URL, options: InternalHostOptions = {}): InternalHost | undefined {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return undefined;
  }
  return internalHost(parsed.hostname, options);
}
